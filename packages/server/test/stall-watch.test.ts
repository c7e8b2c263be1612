// Telling a stalled reader from a slow one: output waiting and the kernel taking none of
// it for a while is a stall; any completed write, or libuv's queue shrinking, is progress.
import { describe, expect, it } from 'vitest';
import { StallWatch } from '../src/socket/stall-watch.js';

/** A stand-in for ws's `_socket` (a net.Socket) whose counters the test moves. */
function fakeSocket() {
  const handle = { writeQueueSize: 0 };
  const stream = { writableLength: 0, bytesWritten: 0, _handle: handle };
  return { socket: { _socket: stream }, stream, handle };
}

describe('StallWatch', () => {
  it('counts the time output waits while the kernel takes none of it', () => {
    let now = 0;
    const { socket, stream, handle } = fakeSocket();
    const watch = StallWatch.of(socket, () => now);
    expect(watch).toBeDefined();
    expect(watch?.stalledFor()).toBe(0);
    // A 1000-byte write: 600 bytes still queued in libuv.
    stream.writableLength = 1000;
    stream.bytesWritten = 1000;
    handle.writeQueueSize = 600;
    now = 100;
    expect(watch?.stalledFor()).toBe(0); // it just started: that is movement
    now = 5000;
    expect(watch?.stalledFor()).toBe(4900);
    // More output queued behind it is not progress.
    stream.writableLength = 1200;
    stream.bytesWritten = 1200;
    now = 6000;
    expect(watch?.stalledFor()).toBe(5900);
  });

  it('treats a shrinking libuv queue (a slow reader draining a big write) as progress', () => {
    let now = 0;
    const { socket, stream, handle } = fakeSocket();
    const watch = StallWatch.of(socket, () => now);
    stream.writableLength = 1_000_000;
    stream.bytesWritten = 1_000_000;
    handle.writeQueueSize = 900_000;
    watch?.stalledFor();
    now = 20_000;
    handle.writeQueueSize = 899_000;
    expect(watch?.stalledFor()).toBe(0);
    now = 40_000;
    expect(watch?.stalledFor()).toBe(20_000);
  });

  it('treats a completed write as progress, and nothing waiting as no stall', () => {
    let now = 0;
    const { socket, stream } = fakeSocket();
    const watch = StallWatch.of(socket, () => now);
    stream.writableLength = 500;
    stream.bytesWritten = 500;
    watch?.stalledFor();
    now = 10_000;
    expect(watch?.stalledFor()).toBe(10_000);
    // That write completed and another of the same size waits.
    stream.bytesWritten = 1000;
    expect(watch?.stalledFor()).toBe(0);
    stream.writableLength = 0;
    now = 50_000;
    expect(watch?.stalledFor()).toBe(0);
  });

  it('starts the clock again when told this process was not running', () => {
    let now = 0;
    const { socket, stream } = fakeSocket();
    const watch = StallWatch.of(socket, () => now);
    stream.writableLength = 500;
    stream.bytesWritten = 500;
    watch?.stalledFor();
    now = 10_000;
    expect(watch?.stalledFor(true)).toBe(0);
    now = 12_000;
    expect(watch?.stalledFor()).toBe(2000);
  });

  it('is not offered for a socket without a stream, and works without a libuv handle', () => {
    expect(StallWatch.of({})).toBeUndefined();
    expect(StallWatch.of({ _socket: { writableLength: 'x' } })).toBeUndefined();
    let now = 0;
    const stream = { writableLength: 10, bytesWritten: 10 };
    const watch = StallWatch.of({ _socket: stream }, () => now);
    watch?.stalledFor();
    now = 100;
    expect(watch?.stalledFor()).toBe(100);
  });
});
