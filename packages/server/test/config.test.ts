// loadConfig: defaults, every variable, and a clear ConfigError for a bad value.
import { generateKeyPairSync } from 'node:crypto';
import { MAX_CLOCK_SKEW_MS, STATE_TTL_SECONDS } from '@hyvve/schema';
import { describe, expect, it } from 'vitest';
import { ConfigError, DEFAULT_RATE_LIMIT, loadConfig } from '../src/index.js';

const SECRET = 'x'.repeat(40);

describe('loadConfig', () => {
  it('defaults to port 3000 on 127.0.0.1, the memory store and dev auth', () => {
    expect(loadConfig({})).toEqual({
      port: 3000,
      host: '127.0.0.1',
      ttlSeconds: STATE_TTL_SECONDS,
      maxClockSkewMs: MAX_CLOCK_SKEW_MS,
      logLevel: 'info',
      devAuth: true,
      rateLimit: DEFAULT_RATE_LIMIT,
      coalesceWindowMs: 0,
      stallTimeoutMs: 30_000,
      nodeEnv: 'development',
      tokenPolicy: { maxLifetimeSeconds: 86_400 },
    });
  });

  it('reads every documented variable', () => {
    expect(
      loadConfig({
        PORT: '8080',
        HOST: '0.0.0.0',
        REDIS_URL: 'redis://cache:6379/2',
        AUTH_SECRET: SECRET,
        STATE_TTL_SECONDS: '600',
        LOG_LEVEL: 'debug',
        NODE_ENV: 'production',
        RATE_LIMIT_SAVES_PER_SECOND: '5',
        RATE_LIMIT_BURST: '8',
        INSTANCE_ID: 'web-1',
        WS_COALESCE_MS: '25',
        WS_STALL_TIMEOUT_MS: '5000',
        MAX_CLOCK_SKEW_MS: '60000',
        RATE_LIMIT_IP_PER_SECOND: '50',
        RATE_LIMIT_IP_BURST: '60',
        AUTH_MAX_TOKEN_TTL_SECONDS: '3600',
        AUTH_ISSUER: 'https://id.example',
        AUTH_AUDIENCE: 'dashboard',
        AUTH_JWKS_URL: 'https://id.example/.well-known/jwks.json',
      }),
    ).toEqual({
      port: 8080,
      host: '0.0.0.0',
      redisUrl: 'redis://cache:6379/2',
      authSecret: SECRET,
      ttlSeconds: 600,
      maxClockSkewMs: 60_000,
      logLevel: 'debug',
      devAuth: false,
      rateLimit: { savesPerSecond: 5, burst: 8, ipPerSecond: 50, ipBurst: 60 },
      coalesceWindowMs: 25,
      stallTimeoutMs: 5000,
      nodeEnv: 'production',
      instanceId: 'web-1',
      tokenPolicy: {
        maxLifetimeSeconds: 3600,
        issuer: 'https://id.example',
        audience: 'dashboard',
      },
      authJwksUrl: 'https://id.example/.well-known/jwks.json',
    });
  });

  it('turns dev auth off once a secret is configured, unless DEV_AUTH asks for it', () => {
    expect(loadConfig({ AUTH_SECRET: 'short-dev-secret' }).devAuth).toBe(false);
    expect(loadConfig({ AUTH_SECRET: 'short-dev-secret', DEV_AUTH: 'true' }).devAuth).toBe(true);
    expect(loadConfig({ DEV_AUTH: 'off' }).devAuth).toBe(false);
  });

  it('disables the rate limit with RATE_LIMIT_SAVES_PER_SECOND=0 and derives the burst', () => {
    expect(loadConfig({ RATE_LIMIT_SAVES_PER_SECOND: '0' }).rateLimit).toBe(false);
    expect(loadConfig({ RATE_LIMIT_SAVES_PER_SECOND: '3' }).rateLimit).toEqual({
      savesPerSecond: 3,
      burst: 6,
      ipPerSecond: 100,
      ipBurst: 200,
    });
  });

  it('reads METRICS_TOKEN and METRICS_PORT (0 picks a free port), and rejects a bad port', () => {
    expect(loadConfig({ METRICS_TOKEN: 'scrape', METRICS_PORT: '9464' })).toMatchObject({
      metricsToken: 'scrape',
      metricsPort: 9464,
    });
    expect(loadConfig({ METRICS_PORT: '0' }).metricsPort).toBe(0);
    expect(loadConfig({})).not.toHaveProperty('metricsPort');
    expect(() => loadConfig({ METRICS_PORT: 'nine' })).toThrow('METRICS_PORT must be an integer');
  });

  it('offers the dev sign-in without a secret only on a loopback HOST, unless DEV_AUTH=1', () => {
    expect(loadConfig({ HOST: '0.0.0.0' }).devAuth).toBe(false);
    expect(loadConfig({ HOST: '::1' }).devAuth).toBe(true);
    expect(loadConfig({ HOST: 'localhost' }).devAuth).toBe(true);
    expect(loadConfig({ HOST: '127.0.0.2' }).devAuth).toBe(true);
    expect(loadConfig({ HOST: '0.0.0.0', DEV_AUTH: '1' }).devAuth).toBe(true);
  });

  it('never turns the dev sign-in on in production', () => {
    expect(() =>
      loadConfig({ NODE_ENV: 'production', AUTH_SECRET: SECRET, DEV_AUTH: '1' }),
    ).toThrow('DEV_AUTH must not be on when NODE_ENV=production');
    expect(loadConfig({ NODE_ENV: 'production', AUTH_SECRET: SECRET }).devAuth).toBe(false);
  });

  it('reads a PEM public key, with \\n standing for line breaks', () => {
    const { publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    const pem = publicKey.export({ type: 'spki', format: 'pem' }).toString();
    expect(loadConfig({ AUTH_PUBLIC_KEY: pem.replace(/\n/g, '\\n') }).authPublicKey).toBe(pem);
  });

  it('reads TRUST_PROXY as a flag or a list of proxy addresses', () => {
    expect(loadConfig({ TRUST_PROXY: 'true' }).trustProxy).toBe(true);
    expect(loadConfig({ TRUST_PROXY: 'false' }).trustProxy).toBe(false);
    expect(loadConfig({ TRUST_PROXY: '10.0.0.0/8, 127.0.0.1' }).trustProxy).toBe(
      '10.0.0.0/8, 127.0.0.1',
    );
    expect(loadConfig({})).not.toHaveProperty('trustProxy');
    expect(() => loadConfig({ TRUST_PROXY: 'my-proxy' })).toThrow('TRUST_PROXY must be');
  });

  it('ignores blank variables', () => {
    expect(loadConfig({ PORT: ' ', REDIS_URL: '' }).port).toBe(3000);
    expect(loadConfig({ REDIS_URL: '' })).not.toHaveProperty('redisUrl');
  });

  it.each([
    [{ NODE_ENV: 'production' }, 'AUTH_SECRET is required when NODE_ENV=production'],
    [{ NODE_ENV: 'production', AUTH_SECRET: 'short' }, 'AUTH_SECRET must be at least 32'],
    [{ PORT: 'eighty' }, 'PORT must be an integer from 0 to 65535'],
    [{ PORT: '70000' }, 'PORT must be an integer'],
    [{ STATE_TTL_SECONDS: '0' }, 'STATE_TTL_SECONDS must be an integer from 1'],
    [{ LOG_LEVEL: 'loud' }, 'LOG_LEVEL must be one of'],
    [{ WS_COALESCE_MS: '1001' }, 'WS_COALESCE_MS must be an integer from 0 to 1000'],
    [{ WS_COALESCE_MS: '2.5' }, 'WS_COALESCE_MS must be an integer'],
    [{ WS_STALL_TIMEOUT_MS: '999' }, 'WS_STALL_TIMEOUT_MS must be an integer from 1000'],
    [{ REDIS_URL: 'localhost:6379' }, 'REDIS_URL must start with redis://'],
    [{ AUTH_PUBLIC_KEY: 'not a key' }, 'AUTH_PUBLIC_KEY must be a PEM public key'],
    [{ AUTH_JWKS_URL: 'ftp://id' }, 'AUTH_JWKS_URL must be an http(s):// address'],
    [{ AUTH_MAX_TOKEN_TTL_SECONDS: '0' }, 'AUTH_MAX_TOKEN_TTL_SECONDS must be an integer from 1'],
    [{ DEV_AUTH: 'maybe' }, 'DEV_AUTH must be true or false'],
  ])('refuses %o with a ConfigError saying what is wrong', (env, message) => {
    expect(() => loadConfig(env)).toThrow(ConfigError);
    expect(() => loadConfig(env)).toThrow(message);
  });

  it('selects Redis Cluster with REDIS_CLUSTER_NODES, sharded pub/sub unless told classic', () => {
    expect(
      loadConfig({
        REDIS_CLUSTER_NODES: 'redis-1:7000, 10.0.0.2:7001,[::1]:7002',
        REDIS_USERNAME: 'app',
        REDIS_PASSWORD: 'pw',
      }).redisCluster,
    ).toEqual({
      nodes: [
        { host: 'redis-1', port: 7000 },
        { host: '10.0.0.2', port: 7001 },
        { host: '::1', port: 7002 },
      ],
      pubsub: 'sharded',
      username: 'app',
      password: 'pw',
    });
    expect(
      loadConfig({ REDIS_CLUSTER_NODES: 'a:1', REDIS_PUBSUB: 'Classic' }).redisCluster,
    ).toEqual({ nodes: [{ host: 'a', port: 1 }], pubsub: 'classic' });
    expect(loadConfig({ REDIS_PUBSUB: 'classic' })).not.toHaveProperty('redisCluster');
  });

  it.each([
    [
      { REDIS_CLUSTER_NODES: 'a:1,b' },
      'REDIS_CLUSTER_NODES must be host:port pairs separated by commas (got "b")',
    ],
    [{ REDIS_CLUSTER_NODES: 'a:70000' }, 'REDIS_CLUSTER_NODES must be host:port pairs'],
    [{ REDIS_CLUSTER_NODES: 'a:1,' }, 'REDIS_CLUSTER_NODES must be host:port pairs'],
    [
      { REDIS_CLUSTER_NODES: 'a:1', REDIS_URL: 'redis://b:6379' },
      'REDIS_CLUSTER_NODES and REDIS_URL exclude each other',
    ],
    [
      { REDIS_CLUSTER_NODES: 'a:1', REDIS_PUBSUB: 'fast' },
      'REDIS_PUBSUB must be sharded or classic',
    ],
    [{ REDIS_PUBSUB: 'sharded' }, 'REDIS_PUBSUB sharded needs REDIS_CLUSTER_NODES'],
  ])('refuses a bad cluster setting %o', (env, message) => {
    expect(() => loadConfig(env)).toThrow(ConfigError);
    expect(() => loadConfig(env)).toThrow(message);
  });
});
