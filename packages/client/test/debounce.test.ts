import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { createDebounce } from '../src/timing/debounce.js';
import { createThrottle } from '../src/timing/throttle.js';

describe('debounce', () => {
  beforeEach(() => {
    vi.useFakeTimers();
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  it('runs once, after the wait following the last call', () => {
    const fn = vi.fn();
    const d = createDebounce(fn, { waitMs: 100 });
    d.schedule();
    vi.advanceTimersByTime(60);
    d.schedule();
    vi.advanceTimersByTime(99);
    expect(fn).not.toHaveBeenCalled();
    vi.advanceTimersByTime(1);
    expect(fn).toHaveBeenCalledTimes(1);
  });

  it('runs at the max wait during a steady stream of calls', () => {
    const fn = vi.fn();
    const d = createDebounce(fn, { waitMs: 100, maxWaitMs: 250 });
    for (let i = 0; i < 30; i++) {
      d.schedule();
      vi.advanceTimersByTime(10);
    }
    expect(fn).toHaveBeenCalledTimes(1);
    vi.advanceTimersByTime(100);
    expect(fn).toHaveBeenCalledTimes(2);
  });

  it('flushes a pending call now and reports whether one was pending', () => {
    const fn = vi.fn();
    const d = createDebounce(fn, { waitMs: 100 });
    expect(d.flush()).toBe(false);
    d.schedule();
    expect(d.isPending()).toBe(true);
    expect(d.flush()).toBe(true);
    expect(fn).toHaveBeenCalledTimes(1);
    expect(d.isPending()).toBe(false);
    vi.advanceTimersByTime(500);
    expect(fn).toHaveBeenCalledTimes(1);
  });

  it('drops a pending call on cancel', () => {
    const fn = vi.fn();
    const d = createDebounce(fn, { waitMs: 100 });
    d.schedule();
    d.cancel();
    vi.advanceTimersByTime(500);
    expect(fn).not.toHaveBeenCalled();
    expect(d.isPending()).toBe(false);
  });

  it('keeps one timer for a burst instead of one per call', () => {
    const d = createDebounce(() => {}, { waitMs: 100 });
    for (let i = 0; i < 1000; i++) d.schedule();
    expect(vi.getTimerCount()).toBe(1);
  });
});

describe('throttle', () => {
  it('sends the first call of a quiet period in a microtask', async () => {
    const fn = vi.fn();
    const t = createThrottle(fn, 50);
    t.schedule();
    t.schedule();
    expect(fn).not.toHaveBeenCalled();
    await Promise.resolve();
    expect(fn).toHaveBeenCalledTimes(1);
  });

  it('folds calls within the interval into one trailing run', async () => {
    const fn = vi.fn();
    const t = createThrottle(fn, 30);
    t.schedule();
    await Promise.resolve();
    for (let i = 0; i < 10; i++) t.schedule();
    expect(t.isPending()).toBe(true);
    await new Promise((resolve) => setTimeout(resolve, 60));
    expect(fn).toHaveBeenCalledTimes(2);
  });

  it('flushes and cancels', async () => {
    const fn = vi.fn();
    const t = createThrottle(fn, 30);
    expect(t.flush()).toBe(false);
    t.schedule();
    expect(t.flush()).toBe(true);
    expect(fn).toHaveBeenCalledTimes(1);
    await Promise.resolve();
    expect(fn).toHaveBeenCalledTimes(1);
    t.schedule();
    t.cancel();
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(fn).toHaveBeenCalledTimes(1);
    expect(t.isPending()).toBe(false);
  });
});
