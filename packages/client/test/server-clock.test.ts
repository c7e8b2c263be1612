// server-clock.ts: what the client stamps on saves, given the server times it has seen.
import { describe, expect, it } from 'vitest';
import { createServerClock } from '../src/server/clock.js';

function clockAt(start: number) {
  let mono = start;
  const clock = createServerClock(() => mono);
  const advance = (ms: number): void => {
    mono += ms;
  };
  return { clock, advance };
}

describe('createServerClock', () => {
  it('leaves timestamps alone until it knows the server time', () => {
    const { clock } = clockAt(0);
    expect(clock.stamp(9e15)).toBe(9e15);
  });

  it('caps at the server time now, carried forward on the monotonic clock', () => {
    const { clock, advance } = clockAt(500);
    clock.observe(1_000_000);
    advance(250);
    expect(clock.stamp(999_000)).toBe(999_000);
    expect(clock.stamp(5_000_000)).toBe(1_000_250);
    // Never below the floor (the held server copy + 1), never above the timestamp itself.
    expect(clock.stamp(5_000_000, 2_000_000)).toBe(2_000_000);
    expect(clock.stamp(1_500_000, 2_000_000)).toBe(1_500_000);
  });

  it('after a refusal, stamps at most the last server time seen until the next sample', () => {
    const { clock, advance } = clockAt(0);
    clock.observe(1_000_000);
    advance(10_000);
    clock.distrust();
    expect(clock.stamp(5_000_000)).toBe(1_000_000);
    clock.observe(2_000_000);
    advance(5);
    expect(clock.stamp(5_000_000)).toBe(2_000_005);
  });

  it('ignores a server time that is not a finite number', () => {
    const { clock } = clockAt(0);
    clock.observe(Number.NaN);
    expect(clock.stamp(7)).toBe(7);
  });
});
