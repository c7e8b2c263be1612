// Pre-encoded fan-out frames: the header ws's Receiver (and every browser) expects for
// each payload size, one frame per event shared by all sockets, and the writer that
// sends frames through ws's sender, corked by the write coalescer.
import { describe, expect, it, vi } from 'vitest';
import { createChannelEvent, stateMessageText } from '../src/channel/channel-event.js';
import { channelFrame, frameWriter, textFrame } from '../src/socket/fan-out/ws-frame.js';

/** Reads a server frame as RFC 6455 §5.2 defines it (real clients are covered in websocket.test.ts). */
function decode(frame: Buffer): { fin: boolean; opcode: number; masked: boolean; payload: Buffer } {
  const short = (frame[1] ?? 0) & 0x7f;
  const [length, offset] =
    short === 126
      ? [frame.readUInt16BE(2), 4]
      : short === 127
        ? [Number(frame.readBigUInt64BE(2)), 10]
        : [short, 2];
  expect(frame.length).toBe(offset + length);
  return {
    fin: ((frame[0] ?? 0) & 0x80) !== 0,
    opcode: (frame[0] ?? 0) & 0x0f,
    masked: ((frame[1] ?? 0) & 0x80) !== 0,
    payload: frame.subarray(offset),
  };
}

const payloadOf = (length: number) => Buffer.from('é'.repeat(length >> 1) + 'x'.repeat(length & 1));

describe('textFrame', () => {
  it.each([
    [0, 2],
    [125, 2],
    [126, 4],
    [65_535, 4],
    [65_536, 10],
    [1_100_000, 10],
  ])('frames a %i-byte payload with a %i-byte header', (length, header) => {
    const payload = payloadOf(length);
    const frame = textFrame(payload);
    expect(frame.length).toBe(header + length);
    const { payload: framed, ...bits } = decode(frame);
    expect(bits).toEqual({ fin: true, opcode: 1, masked: false });
    // Buffer.equals, not toEqual: a deep compare of 1.1 MB byte by byte took 28 s on a
    // loaded machine (past the test timeout).
    expect(framed.equals(payload)).toBe(true);
  });
});

describe('channelFrame', () => {
  it('frames an event once and hands every socket the same buffer', () => {
    const event = createChannelEvent('state', 3, stateMessageText('{"version":1}', 3, 1, 'a'));
    const first = channelFrame(event);
    expect(channelFrame(event)).toBe(first);
    expect(first.subarray(2).toString('utf8')).toBe(event.raw);
  });
});

function fakeSocket(extensions = '') {
  const stream = { cork: vi.fn(), uncork: vi.fn() };
  const sendFrame = vi.fn((_list: Buffer[], _cb?: unknown) => {});
  return { extensions, _sender: { sendFrame, _socket: stream }, stream, sendFrame };
}

describe('frameWriter', () => {
  const done = () => {};

  it('is not offered when the socket negotiated an extension (frames could overtake compression)', () => {
    expect(frameWriter(fakeSocket('permessage-deflate'))).toBeUndefined();
  });

  it('is not offered when ws has no frame sender to keep the order with', () => {
    const withoutSender = { extensions: '' };
    const withOtherSender = { extensions: '', _sender: { send: () => {} } };
    expect(frameWriter(withoutSender)).toBeUndefined();
    expect(frameWriter(withOtherSender)).toBeUndefined();
  });

  it('writes a batch through ws sender in one corked write, reporting completion with the last frame', () => {
    const socket = fakeSocket();
    const write = frameWriter(socket);
    const first = textFrame(Buffer.from('{"a":1}'));
    const second = textFrame(Buffer.from('{"b":2}'));
    write?.([first, second], done);
    expect(socket.sendFrame.mock.calls).toEqual([
      [[first], undefined],
      [[second], done],
    ]);
    expect(socket.stream.cork).toHaveBeenCalledOnce();
    expect(socket.stream.uncork).toHaveBeenCalledOnce();
  });

  it('writes a single frame without corking', () => {
    const socket = fakeSocket();
    const write = frameWriter(socket);
    const frame = textFrame(Buffer.from('{}'));
    write?.([frame], done);
    expect(socket.sendFrame).toHaveBeenCalledWith([frame], done);
    expect(socket.stream.cork).not.toHaveBeenCalled();
  });

  it('writes without corking when the sender has no corkable socket', () => {
    const sendFrame = vi.fn((_list: Buffer[], _cb?: unknown) => {});
    const socket = { extensions: '', _sender: { sendFrame } };
    const write = frameWriter(socket);
    write?.([textFrame(Buffer.from('{}')), textFrame(Buffer.from('[]'))], done);
    expect(sendFrame).toHaveBeenCalledTimes(2);
  });
});
