// How a socket's outbox reaches the wire: the instance's shared pre-encoded frames through
// ws's own sender (one write for a batch), or `send` for a socket that cannot take frames.
import type { WebSocket } from 'ws';
import { patchMessageFrame } from './patch-frame.js';
import type { ChangeSink, OutgoingChange } from './socket-outbox.js';
import { channelFrame, frameWriter } from './ws-frame.js';

/** Writes changes as shared pre-encoded frames, or with `send` when the socket cannot take frames. */
export function changeSink(socket: WebSocket): ChangeSink {
  const frames = frameWriter(socket);
  if (frames) {
    return {
      write: (changes, done) => frames(changes.map(frameOf), done),
    };
  }
  return {
    write(changes, done) {
      const last = changes.length - 1;
      changes.forEach((change, index) => {
        const payload = change.patch?.payload ?? change.event.bytes();
        socket.send(payload, { binary: false }, index === last ? done : undefined);
      });
    },
  };
}

function frameOf(change: OutgoingChange): Buffer {
  return change.patch ? patchMessageFrame(change.patch) : channelFrame(change.event);
}
