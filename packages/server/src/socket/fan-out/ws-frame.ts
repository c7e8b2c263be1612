// Pre-encoded WebSocket frames for fan-out. A channel event is framed once per instance
// and the same buffer is written to every local socket (as Socket.IO's adapter does with
// `wsPreEncodedFrame`): no per-socket framing, and one buffer per write instead of a
// header and a payload (a `write`, not a `writev`, in the kernel).
import type { WebSocket } from 'ws';
import type { ChannelEvent } from '../../channel/channel-event.js';
import { isCorkable } from './corkable.js';

const FIN_TEXT = 0x81;

/** An unmasked, final text frame (RFC 6455 §5.2) holding `payload`, header and payload in one buffer. */
export function textFrame(payload: Buffer): Buffer {
  const length = payload.length;
  const headerBytes = length < 126 ? 2 : length < 65536 ? 4 : 10;
  const frame = Buffer.allocUnsafe(headerBytes + length);
  frame[0] = FIN_TEXT;
  if (headerBytes === 2) {
    frame[1] = length;
  } else if (headerBytes === 4) {
    frame[1] = 126;
    frame.writeUInt16BE(length, 2);
  } else {
    frame[1] = 127;
    frame.writeUInt32BE(0, 2);
    // Payloads are bounded far below 2^48 (MAX_STATE_SIZE_BYTES plus the envelope).
    frame.writeUIntBE(length, 4, 6);
  }
  payload.copy(frame, headerBytes);
  return frame;
}

// Keyed by the event, so the frame lives exactly as long as the event does.
const frames = new WeakMap<ChannelEvent, Buffer>();

/** The event's frame, built by the first socket that needs it and shared by the others. */
export function channelFrame(event: ChannelEvent): Buffer {
  let frame = frames.get(event);
  if (frame === undefined) {
    frame = textFrame(event.bytes());
    frames.set(event, frame);
  }
  return frame;
}

/** ws's frame sender (not in its typings; engine.io relies on it the same way). */
interface FrameSender {
  sendFrame(list: Buffer[], cb?: (error?: Error | null) => void): void;
}

function isFrameSender(value: unknown): value is FrameSender {
  return (
    typeof value === 'object' &&
    value !== null &&
    'sendFrame' in value &&
    typeof value.sendFrame === 'function'
  );
}

/** Writes whole frames in order; `done` once the last one has left for the kernel. */
export type FrameWriter = (frames: readonly Buffer[], done: (error?: Error | null) => void) => void;

/**
 * Writes whole frames to `socket` through ws's own sender, so they stay in order with
 * everything `send` writes; a batch of several frames leaves in one write (the TCP
 * socket is corked around it). `undefined` when the socket negotiated an extension (a
 * frame could then overtake a message being compressed) or ws has no such sender: use `send`.
 */
export function frameWriter(socket: Pick<WebSocket, 'extensions'>): FrameWriter | undefined {
  if (socket.extensions !== '') return undefined;
  const sender: unknown = Reflect.get(socket, '_sender');
  if (!isFrameSender(sender)) return undefined;
  // The TCP socket under the sender: corked around a batch, so it leaves in one write.
  const stream: unknown = Reflect.get(sender, '_socket');
  const corkable = isCorkable(stream) ? stream : undefined;
  return (frames, done) => {
    const last = frames.length - 1;
    if (last > 0) corkable?.cork();
    frames.forEach((frame, index) => {
      sender.sendFrame([frame], index === last ? done : undefined);
    });
    if (last > 0) corkable?.uncork();
  };
}
