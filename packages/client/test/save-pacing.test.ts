// The save pacing on its own (timing/pacing.ts), with fake timers: when a change leaves
// at once (in a microtask), when it waits for the interval, what cancel and sent drop.
// sync-outbox.test.ts checks the same promises through the outbox and a real socket.
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { createSavePacing } from '../src/timing/pacing.js';

const INTERVAL = 100;
const MAX_WAIT = 1000;

beforeEach(() => {
  vi.useFakeTimers({ now: 1_000_000 });
});
afterEach(() => {
  vi.useRealTimers();
});

function paced() {
  const run = vi.fn();
  const pacing = createSavePacing(run, {
    intervalMs: INTERVAL,
    maxWaitMs: MAX_WAIT,
    now: () => Date.now(),
  });
  return { run, pacing };
}

/** Runs queued microtasks (fake timers leave them alone). */
const microtasks = () => Promise.resolve();

describe('createSavePacing', () => {
  it('runs a change after a quiet period in a microtask, once for a synchronous burst', async () => {
    const { run, pacing } = paced();
    expect(pacing.isPending()).toBe(false);
    pacing.schedule();
    pacing.schedule();
    expect(run).not.toHaveBeenCalled();
    expect(pacing.isPending()).toBe(true);
    await microtasks();
    expect(run).toHaveBeenCalledTimes(1);
    expect(pacing.isPending()).toBe(false);
    // Nothing else was armed for the burst.
    await vi.advanceTimersByTimeAsync(MAX_WAIT * 2);
    expect(run).toHaveBeenCalledTimes(1);
  });

  it('runs again at once for a change a full interval after a save, not earlier', async () => {
    const { run, pacing } = paced();
    pacing.sent();
    await vi.advanceTimersByTimeAsync(INTERVAL);
    pacing.schedule();
    await microtasks();
    expect(run).toHaveBeenCalledTimes(1);
    expect(pacing.isPending()).toBe(false);
    // A later change, after the same quiet time, runs at once too.
    pacing.sent();
    await vi.advanceTimersByTimeAsync(INTERVAL);
    pacing.schedule();
    await microtasks();
    expect(run).toHaveBeenCalledTimes(2);
  });

  it('holds a change that follows a save within the interval until it is quiet for one', async () => {
    const { run, pacing } = paced();
    pacing.sent();
    await vi.advanceTimersByTimeAsync(30);
    pacing.schedule();
    await microtasks();
    expect(run).not.toHaveBeenCalled();
    expect(pacing.isPending()).toBe(true);
    // Due an interval after the change (130 ms after the save), not an interval after the save.
    await vi.advanceTimersByTimeAsync(INTERVAL - 1);
    expect(run).not.toHaveBeenCalled();
    await vi.advanceTimersByTimeAsync(1);
    expect(run).toHaveBeenCalledTimes(1);
    expect(pacing.isPending()).toBe(false);
  });

  it('keeps saves an interval apart even with a maxWaitMs shorter than the interval', async () => {
    const run = vi.fn();
    const pacing = createSavePacing(run, {
      intervalMs: 1000,
      maxWaitMs: 500,
      now: () => Date.now(),
    });
    pacing.sent();
    await vi.advanceTimersByTimeAsync(10);
    pacing.schedule();
    await vi.advanceTimersByTimeAsync(989);
    expect(run).not.toHaveBeenCalled();
    await vi.advanceTimersByTimeAsync(1);
    expect(run).toHaveBeenCalledTimes(1);
  });

  it('drops a run queued for a microtask on cancel, and on a save sent meanwhile', async () => {
    const { run, pacing } = paced();
    pacing.schedule();
    pacing.cancel();
    expect(pacing.isPending()).toBe(false);
    await microtasks();
    expect(run).not.toHaveBeenCalled();

    await vi.advanceTimersByTimeAsync(INTERVAL);
    pacing.schedule();
    pacing.sent();
    await microtasks();
    await vi.advanceTimersByTimeAsync(MAX_WAIT * 2);
    expect(run).not.toHaveBeenCalled();
  });

  it('runs once when a change follows a cancel in the same tick', async () => {
    const { run, pacing } = paced();
    pacing.schedule();
    pacing.cancel();
    pacing.schedule();
    expect(pacing.isPending()).toBe(true);
    await microtasks();
    await microtasks();
    expect(run).toHaveBeenCalledTimes(1);
    expect(pacing.isPending()).toBe(false);
  });

  it('drops an armed run on cancel', async () => {
    const { run, pacing } = paced();
    pacing.sent();
    pacing.schedule();
    expect(pacing.isPending()).toBe(true);
    pacing.cancel();
    expect(pacing.isPending()).toBe(false);
    await vi.advanceTimersByTimeAsync(MAX_WAIT * 2);
    expect(run).not.toHaveBeenCalled();
  });

  it('lets a continuous burst out every maxWaitMs', async () => {
    const started = Date.now();
    const runs: number[] = [];
    const pacing = createSavePacing(
      () => {
        runs.push(Date.now() - started);
        pacing.sent();
      },
      { intervalMs: INTERVAL, maxWaitMs: MAX_WAIT, now: () => Date.now() },
    );
    pacing.sent();
    // A change every 50 ms (under the interval) for 2.5 s.
    for (let elapsed = 0; elapsed < 2500; elapsed += 50) {
      pacing.schedule();
      await vi.advanceTimersByTimeAsync(50);
    }
    expect(runs).toEqual([1000, 2000]);
  });
});
