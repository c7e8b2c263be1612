// The bench's fan-out staleness (bench/lib/staleness.ts): every save counts until the
// subscriber holds it or a newer state, so skipped states are not left out.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ArrivalLog } from '../../bench/lib/staleness.js';

function measure(log: ArrivalLog, saves: number[]): { samples: number[]; unreached: number } {
  const samples: number[] = [];
  const unreached = log.staleness(saves, (ms) => samples.push(ms));
  return { samples, unreached };
}

describe('ArrivalLog staleness', () => {
  it('counts a skipped save until the newer state arrives', () => {
    const log = new ArrivalLog();
    // Saves sent at 100, 110, 120; the reader gets 100 at 105, then (latest wins) 120 at 150.
    log.record(100, 105);
    log.record(120, 150);
    expect(measure(log, [100, 110, 120])).toEqual({ samples: [5, 40, 30], unreached: 0 });
  });

  it('ignores arrivals that do not move the reader forward', () => {
    const log = new ArrivalLog();
    log.record(100, 101);
    log.record(100, 102);
    log.record(90, 103);
    expect(log.length).toBe(1);
    expect(log.newest).toBe(100);
    expect(measure(log, [100])).toEqual({ samples: [1], unreached: 0 });
  });

  it('reports the saves the reader never reached, and starts over on reset', () => {
    const log = new ArrivalLog();
    log.record(100, 101);
    expect(measure(log, [100, 110, 120])).toEqual({ samples: [1], unreached: 2 });
    log.reset();
    expect(log.newest).toBe(0);
    expect(measure(log, [100])).toEqual({ samples: [], unreached: 1 });
  });

  it('matches a brute-force search: each save waits for the first arrival at or past it', () => {
    const arrivalsOf = fc.array(
      fc.record({
        state: fc.integer({ min: 1, max: 200 }),
        delay: fc.integer({ min: 0, max: 50 }),
      }),
      { maxLength: 30 },
    );
    fc.assert(
      fc.property(arrivalsOf, fc.uniqueArray(fc.integer({ min: 1, max: 200 })), (raw, saved) => {
        const saves = [...saved].sort((a, b) => a - b);
        // Arrival times ascending, each no earlier than its state was sent.
        let clock = 0;
        const arrivals = raw.map(({ state, delay }) => {
          clock = Math.max(clock, state) + delay;
          return { state, at: clock };
        });
        const log = new ArrivalLog();
        for (const { state, at } of arrivals) log.record(state, at);
        const expected: number[] = [];
        let unreached = 0;
        for (const save of saves) {
          const first = arrivals.find((arrival) => arrival.state >= save);
          if (first === undefined) unreached++;
          else expected.push(first.at - save);
        }
        expect(measure(log, saves)).toEqual({ samples: expected, unreached });
      }),
    );
  });
});
