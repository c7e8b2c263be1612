// ThrottledLog: a failure that repeats on every retry is logged once per interval per
// source, with how many were held back; a recovered source logs its next failure at once.
import { describe, expect, it } from 'vitest';
import type { Logger } from '../src/logger.js';
import { ThrottledLog } from '../src/store/redis/throttled-log.js';

function recorder() {
  const lines: Array<{ context: object; message: string }> = [];
  const push = (context: object, message: string) => lines.push({ context, message });
  const logger: Logger = { debug: push, info: push, warn: push, error: push };
  return { lines, logger };
}

describe('ThrottledLog', () => {
  it('logs the first failure of a source, then once per interval with the count held back', () => {
    const { lines, logger } = recorder();
    let now = 1000;
    const log = new ThrottledLog(logger, 10_000, () => now);
    log.warn('node-a', { node: 'a' }, 'down');
    for (let i = 0; i < 5; i += 1) log.warn('node-a', { node: 'a' }, 'down');
    expect(lines).toEqual([{ context: { node: 'a' }, message: 'down' }]);
    now += 10_000;
    log.warn('node-a', { node: 'a' }, 'down');
    expect(lines[1]).toEqual({ context: { node: 'a', suppressed: 5 }, message: 'down' });
  });

  it('keeps sources apart and forgets one that recovered', () => {
    const { lines, logger } = recorder();
    const log = new ThrottledLog(logger, 10_000, () => 0);
    log.warn('a', {}, 'a down');
    log.warn('b', {}, 'b down');
    expect(log.recovered('a')).toBe(true);
    expect(log.recovered('a')).toBe(false);
    log.warn('a', {}, 'a down again');
    log.warn('b', {}, 'b still down');
    expect(lines.map((line) => line.message)).toEqual(['a down', 'b down', 'a down again']);
  });
});
