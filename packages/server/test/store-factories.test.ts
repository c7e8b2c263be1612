// createStateStore picks the store the way the server does: Redis for a URL, else memory.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeState } from '../../../test-support/fixtures.js';
import { startTestRedis, type TestRedis } from '../../../test-support/redis-server.js';
import {
  createMemoryStateStore,
  createStateStore,
  RedisStateStore,
  StatePersistenceService,
} from '../src/index.js';

let redis: TestRedis;
beforeAll(async () => {
  redis = await startTestRedis();
});
afterAll(() => redis.close());

describe('store factories', () => {
  it('give a memory store without a Redis URL', async () => {
    const store = createStateStore();
    expect(store.kind).toBe('memory');
    await store.close();
    const memory = createMemoryStateStore();
    expect(memory.kind).toBe('memory');
    await memory.close();
  });

  it('give a working Redis store for a URL', async () => {
    const store = createStateStore({ redisUrl: redis.url, connectionName: 'factory' });
    if (!(store instanceof RedisStateStore)) throw new Error('expected a RedisStateStore');
    expect(await store.waitUntilReady(5000)).toBe(true);
    const service = new StatePersistenceService({ store });
    try {
      const owner = { workspaceId: 'acme', userId: 'factory' };
      const saved = await service.save(owner, makeState({ activeProject: 'made' }));
      expect(saved.revision).toBe(1);
      expect((await service.load(owner))?.state.activeProject).toBe('made');
    } finally {
      await service.close();
    }
  });

  it('give a Redis Cluster store for cluster nodes (connecting in the background)', async () => {
    const store = createStateStore({
      cluster: { nodes: [{ host: '127.0.0.1', port: redis.port }], pubsub: 'classic' },
      connectionName: 'factory-cluster',
    });
    expect(store).toBeInstanceOf(RedisStateStore);
    expect(store.kind).toBe('redis-cluster');
    await store.close();
  });
});
