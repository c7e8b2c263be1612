// Write coalescing for fan-out: a quiet socket is written at the end of the turn; a socket
// written again within the window is held until the window since its last write ends, so
// every change in between leaves in one write. Then over a real server and a real socket:
// changes that meet in a window reach the subscriber in one TCP read, in order.
import type { Socket } from 'node:net';
import type { DashboardState } from '@hyvve/schema';
import { beforeAll, describe, expect, it, vi } from 'vitest';
import { makeState } from '../../../test-support/fixtures.js';
import type { Corkable } from '../src/corkable.js';
import { WriteCoalescer } from '../src/http/write-coalescer.js';
import type { RunningServer } from '../src/index.js';
import { api, testServer, tokenFor, wsUrl } from './support/servers.js';
import { TestSocket } from './support/test-socket.js';
import { waitFor } from './support/wait-for.js';

function recordingStream() {
  const stream = { cork: vi.fn(), uncork: vi.fn() } satisfies Corkable;
  return stream;
}

const endOfTurn = () => new Promise<void>((resolve) => process.nextTick(resolve));

describe('WriteCoalescer', () => {
  it('writes a quiet socket when the turn ends, corking it once for all its frames', async () => {
    const coalescer = new WriteCoalescer({ windowMs: 50, now: () => 1000 });
    const stream = recordingStream();
    const entry = coalescer.track(stream);
    coalescer.hold(entry);
    coalescer.hold(entry);
    expect(stream.cork).toHaveBeenCalledOnce();
    expect(stream.uncork).not.toHaveBeenCalled();
    expect(coalescer.holding).toBe(1);
    await endOfTurn();
    expect(stream.uncork).toHaveBeenCalledOnce();
    expect(entry.flushedAt).toBe(1000);
    expect(coalescer.holding).toBe(0);
  });

  it('holds a socket written again within the window until the window since its last write ends', async () => {
    let now = 1000;
    const coalescer = new WriteCoalescer({ windowMs: 40, now: () => now });
    const stream = recordingStream();
    const entry = coalescer.track(stream);
    coalescer.hold(entry);
    await endOfTurn();
    expect(stream.uncork).toHaveBeenCalledTimes(1);

    now = 1010; // 10 ms after the last write: held for the 30 ms left of the window
    coalescer.hold(entry);
    now = 1020;
    coalescer.hold(entry);
    await endOfTurn();
    expect(stream.cork).toHaveBeenCalledTimes(2);
    expect(stream.uncork).toHaveBeenCalledTimes(1);
    expect(coalescer.holding).toBe(1);

    now = 1040;
    await waitFor(() => stream.uncork.mock.calls.length === 2 || undefined, {
      what: 'the held write to leave when its window ends',
    });
    expect(entry.flushedAt).toBe(1040);
    expect(coalescer.holding).toBe(0);

    now = 1100; // quiet for longer than the window: written at once again
    coalescer.hold(entry);
    await endOfTurn();
    expect(stream.uncork).toHaveBeenCalledTimes(3);
  });

  it('releases every held socket with one timer, and at once on flush', async () => {
    let now = 0;
    const coalescer = new WriteCoalescer({ windowMs: 60_000, now: () => now });
    const streams = [recordingStream(), recordingStream()];
    const entries = streams.map((stream) => coalescer.track(stream));
    for (const entry of entries) coalescer.hold(entry);
    await endOfTurn();
    now = 1;
    for (const entry of entries) coalescer.hold(entry);
    await endOfTurn();
    expect(coalescer.holding).toBe(2);
    // Shutdown: close frames and held changes must not wait a minute.
    coalescer.flush();
    for (const stream of streams) expect(stream.uncork).toHaveBeenCalledTimes(2);
    expect(coalescer.holding).toBe(0);
  });

  it('never holds with a window of 0', async () => {
    const coalescer = new WriteCoalescer({ windowMs: 0 });
    const stream = recordingStream();
    const entry = coalescer.track(stream);
    for (let write = 1; write <= 3; write++) {
      coalescer.hold(entry);
      await endOfTurn();
      expect(stream.uncork).toHaveBeenCalledTimes(write);
    }
  });

  it.each([-1, Number.NaN, Number.POSITIVE_INFINITY])('refuses a window of %s', (windowMs) => {
    expect(() => new WriteCoalescer({ windowMs })).toThrow(RangeError);
  });
});

describe('coalesced fan-out over a real socket', () => {
  const WINDOW_MS = 400;
  let server: RunningServer;

  beforeAll(async () => {
    server = await testServer({ coalesceWindowMs: WINDOW_MS });
  });

  it('delivers the changes that meet in a window in one TCP read, in order, and none lost', async () => {
    const token = await tokenFor('coalesce-user-1');
    const { socket } = await TestSocket.ready(wsUrl(server), token);
    const tcp: unknown = Reflect.get(socket.ws, '_socket');
    const reads: Buffer[] = [];
    (tcp as Socket).on('data', (chunk: Buffer) => reads.push(chunk));

    const base = makeState();
    const save = async (n: number): Promise<void> => {
      const state: DashboardState = { ...base, timestamp: base.timestamp + n };
      const response = await api(server, 'POST', '/api/dashboard/state', {
        token,
        body: { state },
      });
      expect(response.status).toBe(200);
    };

    await save(1);
    await socket.next('state', (m) => m.revision === 1);
    expect(reads).toHaveLength(1); // quiet socket: written at once

    // Saved well within the window after that write: held, then written together.
    for (let n = 2; n <= 4; n++) await save(n);
    await socket.next('state', (m) => m.revision === 4, { timeoutMs: 5000 });
    try {
      const revisions = socket.messages.flatMap((m) => (m.type === 'state' ? [m.revision] : []));
      expect(revisions).toEqual([1, 2, 3, 4]);
      expect(reads).toHaveLength(2);
    } finally {
      socket.close();
    }
  });

  it('answers a socket that has been quiet for a window at once', async () => {
    const token = await tokenFor('coalesce-user-2');
    const { socket } = await TestSocket.ready(wsUrl(server), token);
    try {
      const response = await api(server, 'POST', '/api/dashboard/state', {
        token,
        body: { state: makeState() },
      });
      expect(response.status).toBe(200);
      const sent = Date.now();
      await socket.next('state', (m) => m.revision === 1);
      // Not held: well under the 400 ms window (a loose bound: this is behaviour, not speed).
      expect(Date.now() - sent).toBeLessThan(WINDOW_MS / 2);
    } finally {
      socket.close();
    }
  });
});
