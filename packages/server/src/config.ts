// Reads the environment once, validates it, and returns the server's options.
// Every variable is documented in the README's configuration table.

import { createPublicKey } from 'node:crypto';
import { MAX_CLOCK_SKEW_MS, STATE_TTL_SECONDS } from '@hyvve/schema';
import { DEFAULT_MAX_TOKEN_LIFETIME_SECONDS, type TokenPolicy } from './auth/token.js';
import { algorithmOfPublicKey } from './auth/token-keys.js';
import { ConfigError } from './errors.js';
import {
  DEFAULT_COALESCE_WINDOW_MS,
  DEFAULT_ENV_PORT,
  DEFAULT_HOST,
  DEFAULT_RATE_LIMIT,
  DEFAULT_STALL_TIMEOUT_MS,
  defaultDevAuth,
  type RateLimitOptions,
  type ServerOptions,
} from './options.js';
import type { ClusterNode, RedisClusterOptions } from './store/redis/cluster-options.js';

// Kept exported from here, where it was defined first.
export { ConfigError };

export interface ServerConfig extends ServerOptions {
  port: number;
  host: string;
  ttlSeconds: number;
  maxClockSkewMs: number;
  logLevel: string;
  devAuth: boolean;
  rateLimit: RateLimitOptions | false;
  nodeEnv: string;
  coalesceWindowMs: number;
  stallTimeoutMs: number;
  tokenPolicy: TokenPolicy;
}

export type Environment = Readonly<Record<string, string | undefined>>;

const LOG_LEVELS = new Set(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']);
/** Shortest AUTH_SECRET accepted in production (HS256 wants at least 256 bits of key). */
export const MIN_PRODUCTION_SECRET_LENGTH = 32;

function set(env: Environment, name: string): string | undefined {
  const value = env[name]?.trim();
  return value ? value : undefined;
}

function integer(
  env: Environment,
  name: string,
  fallback: number,
  min: number,
  max: number,
): number {
  const raw = set(env, name);
  if (raw === undefined) return fallback;
  const value = Number(raw);
  if (!Number.isInteger(value) || value < min || value > max) {
    throw new ConfigError(name, `must be an integer from ${min} to ${max} (got "${raw}")`);
  }
  return value;
}

function flag(env: Environment, name: string): boolean | undefined {
  const raw = set(env, name)?.toLowerCase();
  if (raw === undefined) return undefined;
  if (['1', 'true', 'yes', 'on'].includes(raw)) return true;
  if (['0', 'false', 'no', 'off'].includes(raw)) return false;
  throw new ConfigError(name, `must be true or false (got "${raw}")`);
}

function rateLimit(env: Environment): RateLimitOptions | false {
  const savesPerSecond = integer(
    env,
    'RATE_LIMIT_SAVES_PER_SECOND',
    DEFAULT_RATE_LIMIT.savesPerSecond,
    0,
    1_000_000,
  );
  if (savesPerSecond === 0) return false;
  const burst = integer(env, 'RATE_LIMIT_BURST', Math.max(savesPerSecond * 2, 1), 1, 1_000_000);
  const ipPerSecond = integer(
    env,
    'RATE_LIMIT_IP_PER_SECOND',
    DEFAULT_RATE_LIMIT.ipPerSecond,
    1,
    1_000_000,
  );
  const ipBurst = integer(env, 'RATE_LIMIT_IP_BURST', ipPerSecond * 2, 1, 1_000_000);
  return { savesPerSecond, burst, ipPerSecond, ipBurst };
}

/**
 * TRUST_PROXY: `true`/`false`, or addresses/CIDRs of the proxies (comma separated).
 * Behind a load balancer the per-IP limit needs it, or every user shares its address.
 */
function trustProxy(env: Environment): boolean | string | undefined {
  const raw = set(env, 'TRUST_PROXY');
  if (raw === undefined) return undefined;
  const lower = raw.toLowerCase();
  if (lower === 'true') return true;
  if (lower === 'false') return false;
  if (!/^[0-9A-Fa-f.:/, ]+$/.test(raw)) {
    throw new ConfigError('TRUST_PROXY', `must be true, false or proxy addresses (got "${raw}")`);
  }
  return raw;
}

function url(env: Environment, name: string): string | undefined {
  const raw = set(env, name);
  if (raw === undefined) return undefined;
  if (!/^https?:\/\//.test(raw)) throw new ConfigError(name, 'must be an http(s):// address');
  return raw;
}

function checkPublicKey(pem: string): void {
  try {
    algorithmOfPublicKey(createPublicKey(pem));
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error);
    throw new ConfigError('AUTH_PUBLIC_KEY', `must be a PEM public key: ${reason}`);
  }
}

function tokenPolicy(env: Environment): TokenPolicy {
  const issuer = set(env, 'AUTH_ISSUER');
  const audience = set(env, 'AUTH_AUDIENCE');
  return {
    maxLifetimeSeconds: integer(
      env,
      'AUTH_MAX_TOKEN_TTL_SECONDS',
      DEFAULT_MAX_TOKEN_LIFETIME_SECONDS,
      1,
      365 * 86_400,
    ),
    ...(issuer === undefined ? {} : { issuer }),
    ...(audience === undefined ? {} : { audience }),
  };
}

/**
 * Dev sign-in: never in production; on by default only without a secret and on a
 * loopback HOST (nobody else can reach it); DEV_AUTH=1 forces it on elsewhere.
 */
function devAuth(env: Environment, production: boolean, secretSet: boolean, host: string): boolean {
  const requested = flag(env, 'DEV_AUTH');
  if (production && requested === true) {
    throw new ConfigError('DEV_AUTH', 'must not be on when NODE_ENV=production');
  }
  return requested ?? defaultDevAuth(secretSet, host);
}

/** `host:port,host:port,...` (IPv6 hosts in brackets: `[::1]:7000`). */
function clusterNodes(raw: string): ClusterNode[] {
  return raw.split(',').map((entry) => {
    const text = entry.trim();
    const match = /^(\[[0-9a-fA-F:.]+\]|[A-Za-z0-9_.-]+):(\d{1,5})$/.exec(text);
    const port = Number(match?.[2]);
    if (!match?.[1] || !Number.isInteger(port) || port < 1 || port > 65_535) {
      throw new ConfigError(
        'REDIS_CLUSTER_NODES',
        `must be host:port pairs separated by commas (got "${text}")`,
      );
    }
    return { host: match[1].replace(/^\[|\]$/g, ''), port };
  });
}

/** REDIS_CLUSTER_NODES with its credentials and pub/sub mode, or undefined (no cluster). */
function redisCluster(
  env: Environment,
  redisUrl: string | undefined,
): RedisClusterOptions | undefined {
  const nodes = set(env, 'REDIS_CLUSTER_NODES');
  const pubsub = set(env, 'REDIS_PUBSUB')?.toLowerCase();
  if (pubsub !== undefined && pubsub !== 'sharded' && pubsub !== 'classic') {
    throw new ConfigError('REDIS_PUBSUB', `must be sharded or classic (got "${pubsub}")`);
  }
  if (nodes === undefined) {
    if (pubsub === 'sharded') {
      throw new ConfigError(
        'REDIS_PUBSUB',
        'sharded needs REDIS_CLUSTER_NODES (one Redis uses classic)',
      );
    }
    return undefined;
  }
  if (redisUrl !== undefined) {
    throw new ConfigError('REDIS_CLUSTER_NODES', 'and REDIS_URL exclude each other: set one');
  }
  const username = set(env, 'REDIS_USERNAME');
  const password = set(env, 'REDIS_PASSWORD');
  return {
    nodes: clusterNodes(nodes),
    pubsub: pubsub ?? 'sharded',
    ...(username === undefined ? {} : { username }),
    ...(password === undefined ? {} : { password }),
  };
}

/** STORE=memory|redis: says which store is meant, so a missing or stray address is an error. */
function checkStore(env: Environment, redisSet: boolean): void {
  const store = set(env, 'STORE')?.toLowerCase();
  if (store === undefined) return;
  if (store !== 'memory' && store !== 'redis') {
    throw new ConfigError('STORE', `must be memory or redis (got "${store}")`);
  }
  if (store === 'memory' && redisSet) {
    throw new ConfigError('STORE', 'memory excludes REDIS_URL and REDIS_CLUSTER_NODES: unset them');
  }
  if (store === 'redis' && !redisSet) {
    throw new ConfigError('STORE', 'redis needs REDIS_URL or REDIS_CLUSTER_NODES');
  }
}

/** The server's options from environment variables. Throws ConfigError on a bad value. */
export function loadConfig(env: Environment = process.env): ServerConfig {
  const nodeEnv = set(env, 'NODE_ENV') ?? 'development';
  const production = nodeEnv === 'production';
  const authSecret = set(env, 'AUTH_SECRET');
  if (production && authSecret === undefined) {
    throw new ConfigError('AUTH_SECRET', 'is required when NODE_ENV=production');
  }
  if (production && authSecret !== undefined && authSecret.length < MIN_PRODUCTION_SECRET_LENGTH) {
    throw new ConfigError(
      'AUTH_SECRET',
      `must be at least ${MIN_PRODUCTION_SECRET_LENGTH} characters when NODE_ENV=production`,
    );
  }
  const logLevel = set(env, 'LOG_LEVEL') ?? 'info';
  if (!LOG_LEVELS.has(logLevel)) {
    throw new ConfigError('LOG_LEVEL', `must be one of ${[...LOG_LEVELS].join(', ')}`);
  }
  const redisUrl = set(env, 'REDIS_URL');
  if (redisUrl !== undefined && !/^rediss?:\/\//.test(redisUrl)) {
    throw new ConfigError('REDIS_URL', 'must start with redis:// or rediss://');
  }
  const cluster = redisCluster(env, redisUrl);
  checkStore(env, redisUrl !== undefined || cluster !== undefined);
  const instanceId = set(env, 'INSTANCE_ID');
  const metricsToken = set(env, 'METRICS_TOKEN');
  const metricsPort = set(env, 'METRICS_PORT') && integer(env, 'METRICS_PORT', 0, 0, 65_535);
  const host = set(env, 'HOST') ?? DEFAULT_HOST;
  const publicKey = set(env, 'AUTH_PUBLIC_KEY')?.replace(/\\n/g, '\n');
  if (publicKey !== undefined) checkPublicKey(publicKey);
  const jwksUrl = url(env, 'AUTH_JWKS_URL');
  const proxies = trustProxy(env);
  return {
    port: integer(env, 'PORT', DEFAULT_ENV_PORT, 0, 65_535),
    host,
    ttlSeconds: integer(env, 'STATE_TTL_SECONDS', STATE_TTL_SECONDS, 1, 365 * 86_400),
    maxClockSkewMs: integer(env, 'MAX_CLOCK_SKEW_MS', MAX_CLOCK_SKEW_MS, 0, 7 * 86_400_000),
    logLevel,
    devAuth: devAuth(env, production, authSecret !== undefined, host),
    tokenPolicy: tokenPolicy(env),
    rateLimit: rateLimit(env),
    coalesceWindowMs: integer(env, 'WS_COALESCE_MS', DEFAULT_COALESCE_WINDOW_MS, 0, 1000),
    stallTimeoutMs: integer(env, 'WS_STALL_TIMEOUT_MS', DEFAULT_STALL_TIMEOUT_MS, 1000, 3_600_000),
    nodeEnv,
    ...(redisUrl === undefined ? {} : { redisUrl }),
    ...(cluster === undefined ? {} : { redisCluster: cluster }),
    ...(authSecret === undefined ? {} : { authSecret }),
    ...(instanceId === undefined ? {} : { instanceId }),
    ...(metricsToken === undefined ? {} : { metricsToken }),
    ...(typeof metricsPort === 'number' ? { metricsPort } : {}),
    ...(publicKey === undefined ? {} : { authPublicKey: publicKey }),
    ...(jwksUrl === undefined ? {} : { authJwksUrl: jwksUrl }),
    ...(proxies === undefined ? {} : { trustProxy: proxies }),
  };
}
