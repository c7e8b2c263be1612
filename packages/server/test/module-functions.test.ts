// The module-level saveState/loadState/deleteState/subscribeToState: the story's
// one-off API that answers false / null instead of throwing when a save cannot happen.
import type { ChannelMessage } from '@hyvve/schema';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { makeState } from '../../../test-support/fixtures.js';
import { startTestRedis, type TestRedis } from '../../../test-support/redis-server.js';
import {
  closeStatePersistence,
  configureStatePersistence,
  deleteState,
  getStatePersistenceService,
  loadState,
  MemoryStateStore,
  RedisStateStore,
  StatePersistenceService,
  saveState,
  subscribeToState,
} from '../src/index.js';
import type { Logger } from '../src/logger.js';
import { waitFor } from './support/wait-for.js';

let redis: TestRedis;
beforeAll(async () => {
  redis = await startTestRedis();
});
afterEach(async () => {
  await closeStatePersistence();
  vi.unstubAllEnvs();
});
afterAll(() => redis.close());

function recordingLogger(): Logger & { warnings: string[] } {
  const warnings: string[] = [];
  const ignore = () => {};
  return {
    warnings,
    debug: ignore,
    info: ignore,
    error: ignore,
    warn: (_context, message) => warnings.push(message),
  };
}

describe('module-level state functions', () => {
  it('create a Redis-backed service from REDIS_URL on first use', async () => {
    vi.stubEnv('REDIS_URL', redis.url);
    const service = getStatePersistenceService();
    expect(service.storeKind).toBe('redis');
    expect(getStatePersistenceService()).toBe(service);
    await waitFor(() => service.ready(), { what: 'Redis to connect' });
    expect(await saveState('acme', 'fn-user-1', makeState())).toBe(true);
    expect(await loadState('acme', 'fn-user-1')).toMatchObject({ version: 1 });
  });

  it('fall back to the in-process store without REDIS_URL', () => {
    vi.stubEnv('REDIS_URL', '');
    expect(getStatePersistenceService().storeKind).toBe('memory');
  });

  it('save, load, subscribe and delete through the configured service', async () => {
    configureStatePersistence(new StatePersistenceService({ store: new MemoryStateStore() }));
    const received: ChannelMessage[] = [];
    const stop = await subscribeToState('acme', 'fn-user-2', (message) => received.push(message));
    const state = makeState({ alerts: 1 });
    expect(await saveState('acme', 'fn-user-2', state, { origin: 'script' })).toBe(true);
    expect(await loadState('acme', 'fn-user-2')).toEqual(state);
    expect(await deleteState('acme', 'fn-user-2')).toBe(true);
    expect(await deleteState('acme', 'fn-user-2')).toBe(false);
    expect(await loadState('acme', 'fn-user-2')).toBeNull();
    await waitFor(() => received.length === 2);
    expect(received.map((message) => message.type)).toEqual(['state', 'deleted']);
    await stop();
  });

  it('answer false and null, and log why, when the state is rejected or the store is down', async () => {
    const logger = recordingLogger();
    const store = new RedisStateStore({ url: redis.url });
    await store.waitUntilReady(5000);
    configureStatePersistence(new StatePersistenceService({ store }), logger);
    expect(await saveState('acme', 'fn-user-3', { version: 1 })).toBe(false);
    expect(await saveState('acme', 'bad:id', makeState())).toBe(false);
    await redis.stop();
    try {
      expect(await saveState('acme', 'fn-user-3', makeState())).toBe(false);
      expect(await loadState('acme', 'fn-user-3')).toBeNull();
      expect(await deleteState('acme', 'fn-user-3')).toBe(false);
    } finally {
      await redis.start();
    }
    expect(logger.warnings).toEqual([
      'saveState failed',
      'saveState failed',
      'saveState failed',
      'loadState failed',
      'deleteState failed',
    ]);
  });

  it('let unexpected errors through instead of hiding them', async () => {
    const store = new MemoryStateStore();
    vi.spyOn(store, 'load').mockRejectedValue(new TypeError('bug'));
    configureStatePersistence(new StatePersistenceService({ store }));
    await expect(loadState('acme', 'fn-user-4')).rejects.toThrow(TypeError);
  });
});
