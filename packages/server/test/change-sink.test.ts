// The outbox's way to the wire: shared frames through ws's sender, or `send` when the
// socket negotiated an extension; completion is reported once, with the last message.
import { describe, expect, it, vi } from 'vitest';
import type { WebSocket } from 'ws';
import { createChannelEvent, deletedMessageText } from '../src/channel/channel-event.js';
import { changeSink } from '../src/socket/fan-out/change-sink.js';
import { createPatchMessage } from '../src/socket/fan-out/patch-frame.js';
import { channelFrame } from '../src/socket/fan-out/ws-frame.js';

const deleted = createChannelEvent('deleted', 3, deletedMessageText(3));
const patch = createPatchMessage({
  revision: 4,
  baseRevision: 3,
  savedAt: 1,
  origin: 'http',
  operations: '[]',
});
const patched = createChannelEvent('deleted', 4, deletedMessageText(4));
const done = () => {};

describe('changeSink', () => {
  it('sends payloads with `send` on a socket with an extension, reporting completion with the last', () => {
    const send = vi.fn();
    const socket = { extensions: 'permessage-deflate', send } as unknown as WebSocket;
    changeSink(socket).write(
      [
        { event: deleted, patch: null },
        { event: patched, patch },
      ],
      done,
    );
    expect(send.mock.calls).toEqual([
      [deleted.bytes(), { binary: false }, undefined],
      [patch.payload, { binary: false }, done],
    ]);
  });

  it('writes the shared frames through ws sender otherwise', () => {
    const sendFrame = vi.fn();
    const socket = { extensions: '', _sender: { sendFrame } } as unknown as WebSocket;
    changeSink(socket).write([{ event: deleted, patch: null }], done);
    expect(sendFrame).toHaveBeenCalledWith([channelFrame(deleted)], done);
  });
});
