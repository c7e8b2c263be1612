// Latest-wins delivery to one socket: one write in flight, what waits behind it is only
// what the reader still needs (the newest whole change, or a short chain of patches),
// and it leaves as one message.
import { describe, expect, it } from 'vitest';
import { type ChannelEvent, createChannelEvent } from '../src/channel/channel-event.js';
import { createPatchMessage, type PatchMessage } from '../src/socket/fan-out/patch-frame.js';
import { type OutgoingChange, SocketOutbox } from '../src/socket/fan-out/socket-outbox.js';
import { WriteCoalescer } from '../src/socket/fan-out/write-coalescer.js';

const endOfTurn = () => new Promise<void>((resolve) => process.nextTick(resolve));

function stateEvent(revision: number, bytes = 1000): ChannelEvent {
  const filler = 'x'.repeat(bytes);
  return createChannelEvent(
    'state',
    revision,
    `{"type":"state","revision":${revision},"savedAt":1,"origin":"t","state":"${filler}"}`,
  );
}

/** The patch from `baseRevision` to the next revision, its payload about `bytes` long. */
function patchOf(baseRevision: number, bytes = 100): PatchMessage {
  const value = 'v'.repeat(Math.max(0, bytes - 120));
  return createPatchMessage({
    revision: baseRevision + 1,
    baseRevision,
    savedAt: 1,
    origin: 't',
    operations: `[{"op":"replace","path":"/r${baseRevision + 1}","value":"${value}"}]`,
  });
}

/** A sink that records each write and completes it only when told to. */
function manualSink() {
  const writes: OutgoingChange[][] = [];
  const pending: ((error?: Error | null) => void)[] = [];
  return {
    writes,
    write(changes: readonly OutgoingChange[], done: (error?: Error | null) => void) {
      writes.push([...changes]);
      pending.push(done);
    },
    complete(error?: Error) {
      pending.shift()?.(error);
    },
  };
}

function describeWrite(changes: OutgoingChange[]): string[] {
  return changes.map((change) =>
    change.patch
      ? `patch ${change.patch.baseRevision}->${change.event.revision}`
      : `whole ${change.event.revision}`,
  );
}

describe('SocketOutbox', () => {
  it('counts as handed only what it gave the socket, not what waits; a reset starts over', async () => {
    const sink = manualSink();
    const outbox = new SocketOutbox(sink, new WriteCoalescer({ windowMs: 0 }));
    expect(outbox.handedRevision).toBe(0);
    outbox.offer(stateEvent(1));
    expect(outbox.handedRevision).toBe(0);
    await endOfTurn();
    expect(outbox.handedRevision).toBe(1);
    outbox.offer(stateEvent(2));
    await endOfTurn();
    expect(outbox.handedRevision).toBe(1);
    sink.complete();
    await endOfTurn();
    expect(outbox.handedRevision).toBe(2);
    outbox.reset();
    expect(outbox.handedRevision).toBe(0);
  });

  it('keeps one write in flight and only the newest change behind it', async () => {
    const sink = manualSink();
    const outbox = new SocketOutbox(sink, new WriteCoalescer({ windowMs: 0 }));
    outbox.offer(stateEvent(1));
    await endOfTurn();
    expect(sink.writes.map(describeWrite)).toEqual([['whole 1']]);
    expect(outbox.writing).toBe(true);
    for (let revision = 2; revision <= 5; revision++) outbox.offer(stateEvent(revision));
    await endOfTurn();
    expect(sink.writes).toHaveLength(1);
    expect(outbox.pending).toBe(1);
    expect(outbox.dropped).toBe(3);
    sink.complete();
    await endOfTurn();
    expect(sink.writes.map(describeWrite)).toEqual([['whole 1'], ['whole 5']]);
    sink.complete();
    expect(outbox.writing).toBe(false);
  });

  it('chains patches behind the write in flight and sends the chain as one patch to the newest', async () => {
    const sink = manualSink();
    const replaced: number[] = [];
    const outbox = new SocketOutbox(sink, new WriteCoalescer({ windowMs: 0 }), (count) =>
      replaced.push(count),
    );
    outbox.offer(stateEvent(1));
    await endOfTurn();
    outbox.offer(stateEvent(2), patchOf(1));
    outbox.offer(stateEvent(3), patchOf(2));
    outbox.offer(stateEvent(4), patchOf(3));
    expect(outbox.pending).toBe(3);
    sink.complete();
    await endOfTurn();
    const [, second] = sink.writes;
    expect(second?.map((change) => describeWrite([change]))).toEqual([['patch 1->4']]);
    const operations = JSON.parse(second?.[0]?.patch?.payload.toString() ?? '{}').patch;
    expect(operations.map((operation: { path: string }) => operation.path)).toEqual([
      '/r2',
      '/r3',
      '/r4',
    ]);
    // The two states in between were never written: counted as replaced.
    expect(replaced).toEqual([2]);
    expect(outbox.dropped).toBe(2);
    expect(outbox.handedRevision).toBe(4);
  });

  it('sends the newest change whole when a whole change waits before patches', async () => {
    const sink = manualSink();
    const outbox = new SocketOutbox(sink, new WriteCoalescer({ windowMs: 0 }));
    outbox.offer(stateEvent(1));
    await endOfTurn();
    // A small state waits whole, and a patch to a larger one still chains onto it.
    outbox.offer(stateEvent(2, 10));
    outbox.offer(stateEvent(3, 1000), patchOf(2));
    expect(outbox.pending).toBe(2);
    sink.complete();
    await endOfTurn();
    expect(sink.writes.map(describeWrite)[1]).toEqual(['whole 3']);
  });

  it('sends a change whole when its patch would not apply to what the reader will hold', async () => {
    const sink = manualSink();
    const outbox = new SocketOutbox(sink, new WriteCoalescer({ windowMs: 0 }));
    outbox.offer(stateEvent(1));
    await endOfTurn();
    outbox.offer(stateEvent(2)); // waiting whole
    outbox.offer(stateEvent(3), patchOf(1)); // base 1, but the reader will hold 2
    sink.complete();
    await endOfTurn();
    expect(sink.writes.map(describeWrite)[1]).toEqual(['whole 3']);
  });

  it('sends the newest change whole once the waiting patches add up to more than it', async () => {
    const sink = manualSink();
    const outbox = new SocketOutbox(sink, new WriteCoalescer({ windowMs: 0 }));
    outbox.offer(stateEvent(1, 1000));
    await endOfTurn();
    outbox.offer(stateEvent(2, 1000), patchOf(1, 600));
    outbox.offer(stateEvent(3, 1000), patchOf(2, 600));
    expect(outbox.pending).toBe(1);
    sink.complete();
    await endOfTurn();
    expect(sink.writes.map(describeWrite)[1]).toEqual(['whole 3']);
  });

  it('forgets what waits on reset, and breaks the patch chain', async () => {
    const sink = manualSink();
    const outbox = new SocketOutbox(sink, new WriteCoalescer({ windowMs: 0 }));
    outbox.offer(stateEvent(5));
    await endOfTurn();
    outbox.offer(stateEvent(6));
    outbox.reset();
    expect(outbox.pending).toBe(0);
    outbox.offer(stateEvent(1), patchOf(5));
    sink.complete();
    await endOfTurn();
    expect(sink.writes.map(describeWrite)[1]).toEqual(['whole 1']);
  });

  it('writes nothing after close, and stops after a failed write', async () => {
    const sink = manualSink();
    const outbox = new SocketOutbox(sink, new WriteCoalescer({ windowMs: 0 }));
    outbox.offer(stateEvent(1));
    await endOfTurn();
    outbox.offer(stateEvent(2));
    sink.complete(new Error('socket gone'));
    await endOfTurn();
    expect(sink.writes).toHaveLength(1);
    outbox.close();
    outbox.offer(stateEvent(3));
    await endOfTurn();
    expect(sink.writes).toHaveLength(1);
  });
});
