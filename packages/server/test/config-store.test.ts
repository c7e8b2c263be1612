// STORE=memory|redis in loadConfig: it only confirms or contradicts the Redis address, and
// a contradiction stops the server with a message naming STORE.
import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../src/index.js';

const URL = 'redis://127.0.0.1:6379';

function storeError(env: Record<string, string>): ConfigError {
  try {
    loadConfig(env);
  } catch (error) {
    if (error instanceof ConfigError) return error;
    throw error;
  }
  throw new Error('loadConfig accepted the environment');
}

describe('loadConfig STORE', () => {
  it('STORE=memory keeps the memory store (no Redis address)', () => {
    const config = loadConfig({ STORE: 'memory' });
    expect(config.redisUrl).toBeUndefined();
    expect(config.redisCluster).toBeUndefined();
  });

  it('STORE=redis with REDIS_URL or REDIS_CLUSTER_NODES uses that Redis', () => {
    expect(loadConfig({ STORE: 'Redis', REDIS_URL: URL }).redisUrl).toBe(URL);
    expect(
      loadConfig({ STORE: 'redis', REDIS_CLUSTER_NODES: '127.0.0.1:7000' }).redisCluster?.nodes,
    ).toEqual([{ host: '127.0.0.1', port: 7000 }]);
  });

  it('refuses STORE=memory beside a Redis address, STORE=redis without one, and other values', () => {
    const memory = storeError({ STORE: 'memory', REDIS_URL: URL });
    expect(memory.variable).toBe('STORE');
    expect(memory.message).toBe(
      'STORE memory excludes REDIS_URL and REDIS_CLUSTER_NODES: unset them',
    );
    expect(storeError({ STORE: 'redis' }).message).toBe(
      'STORE redis needs REDIS_URL or REDIS_CLUSTER_NODES',
    );
    expect(storeError({ STORE: 'disk' }).message).toBe(
      'STORE must be memory or redis (got "disk")',
    );
  });
});
