// Which store `npm start` prepares (scripts/lib/start-store.mjs), from the environment alone.
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { chooseStore, redisDataDir, StartStoreError } from '../lib/start-store.mjs';

describe('chooseStore', () => {
  it('embeds Redis by default, and requires it with STORE=redis', () => {
    expect(chooseStore({})).toEqual({ kind: 'embedded', required: false });
    expect(chooseStore({ STORE: ' Redis ' })).toEqual({ kind: 'embedded', required: true });
  });

  it('uses a configured Redis or cluster as it is, whatever STORE says (the server checks that)', () => {
    expect(chooseStore({ REDIS_URL: 'redis://127.0.0.1:6379' })).toEqual({ kind: 'external' });
    expect(chooseStore({ REDIS_CLUSTER_NODES: '127.0.0.1:7000', STORE: 'memory' })).toEqual({
      kind: 'external',
    });
  });

  it('uses memory when STORE=memory asks for it, and refuses other values', () => {
    expect(chooseStore({ STORE: 'memory', REDIS_URL: ' ' })).toEqual({ kind: 'memory' });
    expect(() => chooseStore({ STORE: 'disk' })).toThrow(
      new StartStoreError('STORE must be memory or redis (got "disk")'),
    );
  });
});

describe('redisDataDir', () => {
  it('is .data/redis in the checkout, or DATA_DIR/redis (relative to the checkout)', () => {
    expect(redisDataDir('/repo', {})).toBe(join('/repo', '.data', 'redis'));
    expect(redisDataDir('/repo', { DATA_DIR: '/var/lib/hyvve' })).toBe('/var/lib/hyvve/redis');
    expect(redisDataDir('/repo', { DATA_DIR: 'state' })).toBe('/repo/state/redis');
  });
});
