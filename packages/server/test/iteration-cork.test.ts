// Redis commands of one event-loop iteration leave in one write: the socket is corked on
// the first command and released in the check phase, after every I/O callback of the
// iteration; then through a real Redis store, saves made together all succeed in order.
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { startTestRedis, type TestRedis } from '../../../test-support/redis-server.js';
import { stateScope } from '../src/index.js';
import type { Corkable } from '../src/socket/fan-out/corkable.js';
import { IterationCork } from '../src/store/redis/iteration-cork.js';
import { redisStores } from './support/redis-stores.js';

const recording = () => ({ cork: vi.fn(), uncork: vi.fn() }) satisfies Corkable;
const checkPhase = () => new Promise<void>((resolve) => setImmediate(resolve));

describe('IterationCork', () => {
  it('corks a stream once per iteration and releases it in the check phase', async () => {
    const cork = new IterationCork();
    const stream = recording();
    cork.hold(stream);
    cork.hold(stream);
    await Promise.resolve(); // microtasks and ticks of this iteration: still held
    expect(stream.cork).toHaveBeenCalledOnce();
    expect(stream.uncork).not.toHaveBeenCalled();
    await checkPhase();
    expect(stream.uncork).toHaveBeenCalledOnce();
    cork.hold(stream);
    expect(stream.cork).toHaveBeenCalledTimes(2);
  });

  it('releases every held stream, and at once on demand', () => {
    const cork = new IterationCork();
    const streams = [recording(), recording()];
    for (const stream of streams) cork.hold(stream);
    cork.release();
    for (const stream of streams) expect(stream.uncork).toHaveBeenCalledOnce();
  });
});

describe('saves sent together through a real Redis store', () => {
  let redis: TestRedis;
  const stores = redisStores();
  beforeAll(async () => {
    redis = await startTestRedis();
  });
  afterEach(() => stores.closeAll());
  afterAll(() => redis.close());

  it('all land, each with its own revision and state, when made in one iteration', async () => {
    const store = await stores.open(redis.url, { connectionName: 'cork-test' });
    const scopes = Array.from({ length: 20 }, (_, i) => stateScope('acme', `cork-user-${i}`));
    const save = (i: number, timestamp: number) =>
      store.save(stateScope('acme', `cork-user-${i % scopes.length}`), {
        stateJson: JSON.stringify({ version: 1, timestamp, n: i }),
        timestamp,
        version: 1,
        savedAt: 1_700_000_000_000,
        origin: 'cork',
        ttlSeconds: 60,
      });
    // 40 saves in one synchronous burst: two per user, the second newer.
    const outcomes = await Promise.all(Array.from({ length: 40 }, (_, i) => save(i, 1000 + i)));
    expect(outcomes.map((outcome) => outcome.status)).toEqual(Array(40).fill('saved'));
    for (const [i, scope] of scopes.entries()) {
      const stored = await store.load(scope);
      expect(stored?.revision).toBe(2);
      expect(stored?.stateJson).toBe(
        JSON.stringify({ version: 1, timestamp: 1020 + i, n: 20 + i }),
      );
    }
  });
});
