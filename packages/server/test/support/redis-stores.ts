// Redis stores opened by a test file, all closed after each test.
import { expect } from 'vitest';
import { RedisStateStore, type RedisStateStoreOptions } from '../../src/index.js';

export interface RedisStores {
  /** A store on `url`, ready (both connections up) before it is returned. */
  open(url: string, options?: Omit<RedisStateStoreOptions, 'url'>): Promise<RedisStateStore>;
  /** Closes every store opened since the last call (for `afterEach`). */
  closeAll(): Promise<void>;
}

export function redisStores(): RedisStores {
  const stores: RedisStateStore[] = [];
  return {
    async open(url, options = {}) {
      const store = new RedisStateStore({ url, ...options });
      stores.push(store);
      expect(await store.waitUntilReady(5000)).toBe(true);
      return store;
    },
    async closeAll() {
      await Promise.all(stores.splice(0).map((store) => store.close()));
    },
  };
}
