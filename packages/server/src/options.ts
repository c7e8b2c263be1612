// Every option of the server and its default, in one place: `startServer` and the plugin
// read their defaults here, and config.ts only maps environment variables onto these.
import { isIP } from 'node:net';
import type { TokenPolicy } from './auth/token.js';
import type { RedisClusterOptions } from './store/redis/cluster-options.js';

/** Default address the server listens on: this machine only. */
export const DEFAULT_HOST = '127.0.0.1';
/** Default port of `startServer` (0: a free one); the `PORT` variable defaults to 3000. */
export const DEFAULT_PORT = 0;
export const DEFAULT_ENV_PORT = 3000;
/** How long start waits for Redis before serving anyway (503 until it comes). */
export const DEFAULT_REDIS_CONNECT_TIMEOUT_MS = 3000;
/** A WebSocket whose reader drained nothing for this long is closed with 4408. */
export const DEFAULT_STALL_TIMEOUT_MS = 30_000;
/**
 * Least time between two writes to a socket (0: none; a socket then waits only for the
 * write in flight and the batch it was written in, see socket/fan-out/write-coalescer.ts).
 */
export const DEFAULT_COALESCE_WINDOW_MS = 0;
/** Time for a WebSocket's first `auth` message (without an Authorization header). */
export const DEFAULT_AUTH_TIMEOUT_MS = 5000;
/** WebSocket ping interval; a socket that misses one pong is dropped. */
export const DEFAULT_HEARTBEAT_INTERVAL_MS = 30_000;

export interface RateLimitOptions {
  /**
   * Sustained requests per second per user: every HTTP request and socket message of
   * the user (saves, reads, deletes, renewals, invalid ones), HTTP and WebSocket together.
   * (The name is kept from when only saves were limited.)
   */
  savesPerSecond: number;
  /** Requests a user may make in a burst (bucket size). */
  burst: number;
  /** Requests and socket frames per second per client IP, counted before auth. @default 100 */
  ipPerSecond?: number;
  /** Per-IP burst. @default twice ipPerSecond */
  ipBurst?: number;
}

export const DEFAULT_RATE_LIMIT = {
  savesPerSecond: 20,
  burst: 40,
  ipPerSecond: 100,
  ipBurst: 200,
} as const satisfies Required<RateLimitOptions>;

export interface ServerOptions {
  /** 0 picks a free port. @default 0 */
  port?: number;
  /** @default '127.0.0.1' */
  host?: string;
  /** Redis to persist in and publish through; absent = in-process memory store (one instance only). */
  redisUrl?: string;
  /** A Redis Cluster instead of `redisUrl` (seed nodes, credentials, pub/sub mode). */
  redisCluster?: RedisClusterOptions;
  /** HS256 secret of the bearer tokens; absent = a random per-process secret. */
  authSecret?: string;
  /** An identity provider's public key (PEM): its RS256/ES256/EdDSA tokens are accepted. */
  authPublicKey?: string;
  /** An identity provider's JWKS address: its RS256/ES256/EdDSA tokens are accepted. */
  authJwksUrl?: string;
  /** Lifetime (at most 24 h by default), issuer and audience a token must meet. */
  tokenPolicy?: TokenPolicy;
  /** Proxies whose X-Forwarded-For names the client (Fastify's trustProxy). @default false */
  trustProxy?: boolean | string;
  /**
   * Enables POST /api/dev/token (refused with NODE_ENV=production).
   * @default true exactly when no authSecret is given and host is a loopback address
   */
  devAuth?: boolean;
  /** @default 86400 */
  ttlSeconds?: number;
  /** Largest lead of a saved `state.timestamp` over the server clock (400 beyond). @default 300000 */
  maxClockSkewMs?: number;
  /** Folder of a built web app served at `/`. */
  staticDir?: string;
  /** pino level. @default 'info' */
  logLevel?: string;
  /**
   * Per-user and per-IP limits of every request and socket message, in Redis when
   * `redisUrl` is set (shared by instances); false disables. @default DEFAULT_RATE_LIMIT
   */
  rateLimit?: RateLimitOptions | false;
  /** Names this instance in logs and in Redis CLIENT LIST. @default random */
  instanceId?: string;
  /** @default 5000 */
  authTimeoutMs?: number;
  /** @default 30000 */
  heartbeatIntervalMs?: number;
  /** A WebSocket whose reader drained nothing for this long is closed with 4408. @default 30000 */
  stallTimeoutMs?: number;
  /**
   * A socket written to again within this many ms of its last write waits for the rest of
   * the window (0: only for its write in flight and its batch). @default 0
   */
  coalesceWindowMs?: number;
  /** Called when the server closes a WebSocket with a code (1001, 1013, 4401, 4408), e.g. for metrics. */
  onSocketClose?: (code: number, reason: string) => void;
  /** How long start waits for Redis before serving anyway (503 until it comes). @default 3000 */
  redisConnectTimeoutMs?: number;
  /** Serve GET /metrics on this port (same host) instead of the API's; 0 picks a free one. */
  metricsPort?: number;
  /** Bearer token GET /metrics requires. @default none (open) */
  metricsToken?: string;
  /** False: no metrics are counted and /metrics is not served. @default true */
  metrics?: boolean;
}

/** True for `localhost` and loopback addresses (127.0.0.0/8, ::1). */
export function isLoopbackHost(host: string): boolean {
  const bare = host.replace(/^\[(.*)\]$/, '$1').toLowerCase();
  if (bare === 'localhost') return true;
  if (isIP(bare) === 4) return bare.startsWith('127.');
  return bare === '::1' || bare === '::ffff:127.0.0.1';
}

/**
 * Whether the dev sign-in is on when not asked for either way: only without a secret and
 * on a loopback host (nobody else can reach it).
 */
export function defaultDevAuth(secretSet: boolean, host: string): boolean {
  return !secretSet && isLoopbackHost(host);
}

/** Where the Redis behind a server is: one Redis, a cluster, or none (the memory store). */
export type RedisTarget = { url: string } | { cluster: RedisClusterOptions };

/**
 * The one Redis-vs-memory decision: a cluster when one is given, else the Redis URL, else
 * none (the store and the limits then live in this process).
 */
export function redisTarget(options: {
  redisUrl?: string | undefined;
  redisCluster?: RedisClusterOptions | undefined;
}): RedisTarget | undefined {
  if (options.redisCluster) return { cluster: options.redisCluster };
  if (options.redisUrl) return { url: options.redisUrl };
  return undefined;
}
