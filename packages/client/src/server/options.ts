// The options of live server sync (the engine's `server` option), each with its default.
import type { LockManagerLike } from '../tabs/leader.js';
import type { BackoffOptions } from '../timing/backoff.js';
import type { FetchLike } from './fetch-state.js';
import type { GetToken, SocketFactory } from './socket.js';

export interface ServerSyncOptions {
  /** Base URL of the server (http(s), ws(s), or relative to the page in a browser). */
  url: string;
  /** Returns a fresh token; called before every (re)connect and HTTP read. */
  getToken: GetToken;
  /**
   * Pacing of saves: the first change after a quiet period (no save for this long) is sent
   * at once; later ones at most once per this interval, always ending with the last state.
   * @default SERVER_SAVE_DEBOUNCE_MS (100)
   */
  saveThrottleMs?: number;
  /** A burst of changes less than `saveThrottleMs` apart still reaches the server this often. @default 1000 */
  saveMaxWaitMs?: number;
  /** Reconnect and retry backoff. @default { initialDelayMs: 250, maxDelayMs: 30000 } */
  reconnect?: BackoffOptions;
  /** A save without an answer after this long counts as failed and is retried. @default 10000 */
  ackTimeoutMs?: number;
  /** @default 10000 */
  readyTimeoutMs?: number;
  /** WebSocket factory. @default (url) => new globalThis.WebSocket(url) */
  createWebSocket?: SocketFactory;
  /** fetch, for reading the stored state. @default globalThis.fetch */
  fetch?: FetchLike;
  /**
   * One WebSocket per browser, server and user: the tab holding a Web Lock (the leader)
   * holds it, the other tabs save and listen through it over the BroadcastChannel. Where
   * Web Locks or BroadcastChannel are missing every tab opens its own. @default true
   */
  shareConnection?: boolean;
  /** Web Locks, for electing the leader tab. @default navigator.locks (none outside a browser) */
  locks?: LockManagerLike | null;
}
