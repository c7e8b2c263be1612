// The engine renews its socket's token in-band before it expires: the socket (and its
// subscription) outlives the first token, with no reconnect.
import { type RunningServer, signToken, startServer } from '@hyvve/server';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { WebSocket } from 'ws';
import {
  createDashboardStore,
  createStatePersistence,
  type PersistenceError,
} from '../src/index.js';
import { renewalDelay, scheduleTokenRenewal, tokenExpiry } from '../src/server/token-renewal.js';
import { SpyStorage, waitUntil } from './support/fakes.js';

const SECRET = 'client-renewal-secret-client-renewal';
let server: RunningServer;

beforeAll(async () => {
  server = await startServer({ authSecret: SECRET, rateLimit: false, logLevel: 'silent' });
});
afterAll(() => server?.close());

const silent = { debug() {}, warn() {}, error() {} };

describe('token renewal', () => {
  it('reads exp from a JWT and nothing from anything else', async () => {
    const token = await signToken({
      userId: 'a',
      workspaceId: 'w',
      secret: SECRET,
      expiresInSeconds: 90,
    });
    const expiry = tokenExpiry(token) ?? 0;
    expect(expiry - Date.now()).toBeGreaterThan(80_000);
    expect(tokenExpiry('opaque')).toBeUndefined();
    expect(tokenExpiry('a.!!!.c')).toBeUndefined();
    expect(tokenExpiry(`a.${btoa('{"sub":"x"}')}.c`)).toBeUndefined();
  });

  it('renews a minute before exp, at 80 % of a shorter life, and never within a second', () => {
    expect(renewalDelay(1_000_000, 0, 60_000)).toBe(940_000);
    expect(renewalDelay(10_000, 0, 60_000)).toBe(8_000);
    expect(renewalDelay(500, 0, 60_000)).toBe(1_000);
  });

  it('stops renewing when cancelled, and when getToken fails', async () => {
    vi.useFakeTimers();
    try {
      const token = await signToken({
        userId: 'a',
        workspaceId: 'w',
        secret: SECRET,
        expiresInSeconds: 10,
      });
      const sent: string[] = [];
      const failing = scheduleTokenRenewal(token, {
        getToken: () => Promise.reject(new Error('signed out')),
        sendAuth: (next) => sent.push(next) > 0,
        logger: silent,
      });
      await vi.advanceTimersByTimeAsync(9_000);
      expect(sent).toEqual([]);
      failing();
      const cancelled = scheduleTokenRenewal(token, {
        getToken: () => 'next',
        sendAuth: (next) => sent.push(next) > 0,
        logger: silent,
      });
      cancelled();
      await vi.advanceTimersByTimeAsync(20_000);
      expect(sent).toEqual([]);
    } finally {
      vi.useRealTimers();
    }
  });

  it('keeps the socket open past the first token’s expiry, without reconnecting', async () => {
    const store = createDashboardStore();
    const errors: PersistenceError[] = [];
    let sockets = 0;
    let tokens = 0;
    const engine = createStatePersistence(store, {
      storageKey: 'renewal',
      storage: new SpyStorage(),
      createChannel: null,
      lifecycle: {},
      debounceMs: 50,
      onError: (error) => errors.push(error),
      server: {
        url: server.url,
        getToken: () => {
          tokens += 1;
          return signToken({
            userId: 'renewing',
            workspaceId: 'w',
            secret: SECRET,
            expiresInSeconds: 3,
          });
        },
        createWebSocket: (url) => {
          sockets += 1;
          return new WebSocket(url);
        },
      },
    });
    engine.start();
    try {
      await waitUntil(() => engine.getSnapshot().syncStatus === 'synced', 10_000, 'synced');
      const firstExpiry = Date.now() + 3_000;
      await waitUntil(
        () => Date.now() > firstExpiry + 1_500 && tokens >= 2,
        15_000,
        'past the first expiry',
      );
      expect(sockets).toBe(1);
      expect(engine.getSnapshot().syncStatus).toBe('synced');
      // Still live: a change made now reaches the server over the same socket.
      store.getState().setActiveProject('after-renewal');
      let stored: string | null | undefined;
      const deadline = Date.now() + 10_000;
      while (stored !== 'after-renewal' && Date.now() < deadline) {
        const loaded = await server.service.load({ workspaceId: 'w', userId: 'renewing' });
        stored = loaded?.state.activeProject;
        if (stored !== 'after-renewal') await new Promise((resolve) => setTimeout(resolve, 50));
      }
      expect(stored).toBe('after-renewal');
      expect(sockets).toBe(1);
      expect(errors).toEqual([]);
    } finally {
      engine.stop();
    }
  });
});
