// GET /metrics against real servers and a real Redis: the counters move with the work
// (saves, loads, sockets, deliveries, rate limits, store outages), labels never name a
// user or workspace, and two servers in one process keep their own registries.
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { makeState } from '../../../test-support/fixtures.js';
import { startTestRedis, type TestRedis } from '../../../test-support/redis-server.js';
import type { RunningServer } from '../src/index.js';
import { api, field, testServer, tokenFor, wsUrl } from './support/servers.js';
import { TestSocket } from './support/test-socket.js';
import { waitFor } from './support/wait-for.js';

const PATH = '/api/dashboard/state';
const T0 = 1_700_000_000_000;
let redis: TestRedis;
let server: RunningServer;
const sockets: TestSocket[] = [];

beforeAll(async () => {
  redis = await startTestRedis();
  server = await testServer({ redisUrl: redis.url, instanceId: 'metrics-a' });
});
afterEach(() => {
  for (const socket of sockets.splice(0)) socket.close();
});
afterAll(async () => {
  await server.close();
  await redis.close();
});

/** The scraped text of a server's /metrics. */
async function scrape(target: RunningServer, token?: string): Promise<string> {
  const response = await fetch(target.metricsUrl, {
    ...(token === undefined ? {} : { headers: { authorization: `Bearer ${token}` } }),
  });
  expect(response.status).toBe(200);
  expect(response.headers.get('content-type')).toContain('text/plain');
  return response.text();
}

/** The value of one sample (`name{labels}`), 0 when the series does not exist yet. */
function sample(text: string, name: string, labels: Record<string, string> = {}): number {
  const wanted = Object.entries(labels).map(([key, value]) => `${key}="${value}"`);
  for (const line of text.split('\n')) {
    if (line.startsWith('#')) continue;
    const match = /^([a-zA-Z_:][\w:]*)(?:\{(.*)\})? (\S+)$/.exec(line);
    if (!match || match[1] !== name) continue;
    const have = match[2] ? match[2].split(',') : [];
    if (wanted.every((pair) => have.includes(pair))) return Number(match[3]);
  }
  return 0;
}

async function metric(name: string, labels: Record<string, string> = {}): Promise<number> {
  return sample(await scrape(server), name, labels);
}

async function ready(target: RunningServer, token: string): Promise<TestSocket> {
  const { socket } = await TestSocket.ready(wsUrl(target), token);
  sockets.push(socket);
  return socket;
}

describe('GET /metrics', () => {
  it('serves the default process metrics and the hyvve_ ones in Prometheus text', async () => {
    const text = await scrape(server);
    for (const name of [
      'process_cpu_user_seconds_total',
      'nodejs_eventloop_lag_seconds',
      'nodejs_heap_size_used_bytes',
      'hyvve_store_up',
      'hyvve_websockets_open',
      'hyvve_propagation_lag_seconds',
    ]) {
      expect(text).toContain(`# TYPE ${name} `);
    }
    expect(sample(text, 'hyvve_store_up')).toBe(1);
  });

  it('counts HTTP saves by status, with their latency, and loads', async () => {
    const token = await tokenFor('saver');
    const before = await scrape(server);
    const saved = await api(server, 'POST', PATH, {
      token,
      body: { state: makeState({ timestamp: T0 + 1 }) },
    });
    expect(saved.status).toBe(200);
    const invalid = await api(server, 'POST', PATH, { token, body: { state: { version: 1 } } });
    expect(invalid.status).toBe(400);
    expect((await api(server, 'GET', PATH, { token })).status).toBe(200);

    const after = await scrape(server);
    const delta = (name: string, labels: Record<string, string> = {}) =>
      sample(after, name, labels) - sample(before, name, labels);
    expect(delta('hyvve_state_saves_total', { transport: 'http', status: '200' })).toBe(1);
    expect(delta('hyvve_state_saves_total', { transport: 'http', status: '400' })).toBe(1);
    expect(delta('hyvve_state_save_duration_seconds_count', { transport: 'http' })).toBe(2);
    expect(delta('hyvve_state_loads_total', { status: '200' })).toBe(1);
    expect(delta('hyvve_state_load_duration_seconds_count')).toBe(1);
    // Labels are bounded: no user or workspace id ever appears.
    expect(after).not.toMatch(/saver|acme/);
  });

  it('counts deletes by transport and status', async () => {
    const token = await tokenFor('deleter');
    const before = await scrape(server);
    expect((await api(server, 'DELETE', PATH, { token })).status).toBe(204);
    const socket = await ready(server, token);
    socket.send({ type: 'delete', id: 'd1' });
    await socket.next('delete-ack', (m) => m.id === 'd1');
    const after = await scrape(server);
    const delta = (labels: Record<string, string>) =>
      sample(after, 'hyvve_state_deletes_total', labels) -
      sample(before, 'hyvve_state_deletes_total', labels);
    expect(delta({ transport: 'http', status: '204' })).toBe(1);
    expect(delta({ transport: 'ws', status: '200' })).toBe(1);
  });

  it('counts open sockets, fan-out deliveries, propagation lag and WebSocket saves', async () => {
    const token = await tokenFor('watcher');
    const openBefore = await metric('hyvve_websockets_open');
    const deliveredBefore = await metric('hyvve_fanout_deliveries_total');
    const lagBefore = await metric('hyvve_propagation_lag_seconds_count');
    const wsSavesBefore = await metric('hyvve_state_saves_total', {
      transport: 'ws',
      status: '200',
    });
    const first = await ready(server, token);
    const second = await ready(server, token);
    expect(await metric('hyvve_websockets_open')).toBe(openBefore + 2);

    first.send({ type: 'save', id: 's1', state: makeState({ timestamp: T0 + 10 }) });
    const saved = await first.next('saved', (m) => m.id === 's1');
    await Promise.all(
      [first, second].map((socket) => socket.next('state', (m) => m.revision === saved.revision)),
    );
    const text = await scrape(server);
    expect(sample(text, 'hyvve_state_saves_total', { transport: 'ws', status: '200' })).toBe(
      wsSavesBefore + 1,
    );
    // One change, two sockets: two deliveries, one arrival on this instance.
    expect(sample(text, 'hyvve_fanout_deliveries_total')).toBe(deliveredBefore + 2);
    expect(sample(text, 'hyvve_propagation_lag_seconds_count')).toBe(lagBefore + 1);

    first.close();
    second.close();
    await waitFor(async () => (await metric('hyvve_websockets_open')) === openBefore, {
      what: 'the open socket gauge to fall back',
    });
  });

  it('counts rate-limited saves on both transports', async () => {
    const limited = await testServer({
      redisUrl: redis.url,
      rateLimit: { savesPerSecond: 1, burst: 1 },
    });
    const token = await tokenFor('hasty');
    const body = { state: makeState({ timestamp: T0 + 20 }) };
    expect((await api(limited, 'POST', PATH, { token, body })).status).toBe(200);
    expect((await api(limited, 'POST', PATH, { token, body })).status).toBe(429);
    const socket = await ready(limited, token);
    socket.send({ type: 'save', id: 'x', state: makeState({ timestamp: T0 + 21 }) });
    await socket.next('error', (m) => m.id === 'x' && m.status === 429);

    const text = await scrape(limited);
    expect(sample(text, 'hyvve_rate_limited_requests_total', { transport: 'http' })).toBe(1);
    expect(sample(text, 'hyvve_rate_limited_requests_total', { transport: 'ws' })).toBe(1);
    expect(sample(text, 'hyvve_state_saves_total', { transport: 'ws', status: '429' })).toBe(1);
    // Its own registry: the first server never saw these.
    expect(await metric('hyvve_rate_limited_requests_total', { transport: 'http' })).toBe(0);
  });

  it('does not count the read that teaches a channel its epoch as a resync', async () => {
    const resyncs = async () => {
      const scraped = await scrape(server);
      return ['same', 'pushed', 'reset'].map((result) =>
        sample(scraped, 'hyvve_store_resyncs_total', { result }),
      );
    };
    const before = await resyncs();
    const token = await tokenFor('first-saver');
    const socket = await ready(server, token);
    const saved = await api(server, 'POST', PATH, {
      token,
      body: { state: makeState({ timestamp: T0 + 25 }) },
    });
    // The socket joined before the counter existed: the channel re-read it to learn the epoch.
    await socket.next('ready', (m) => m.epoch !== '' && m.epoch === field(saved.body, 'epoch'), {
      timeoutMs: 10_000,
    });
    expect(await resyncs()).toEqual(before);
  });

  it('shows the store down while Redis is away, then the reconnects and the resync', async () => {
    const token = await tokenFor('outage');
    const socket = await ready(server, token);
    const reconnectsBefore = await metric('hyvve_redis_reconnects_total', {
      connection: 'subscriber',
    });
    await redis.stop();
    try {
      await waitFor(async () => (await metric('hyvve_store_up')) === 0, {
        timeoutMs: 10_000,
        what: 'hyvve_store_up to fall to 0',
      });
      const refused = await api(server, 'POST', PATH, {
        token,
        body: { state: makeState({ timestamp: T0 + 30 }) },
      });
      expect(refused.status).toBe(503);
      expect(await metric('hyvve_state_saves_total', { transport: 'http', status: '503' })).toBe(1);
    } finally {
      await redis.start();
    }
    await waitFor(async () => (await metric('hyvve_store_up')) === 1, {
      timeoutMs: 15_000,
      what: 'hyvve_store_up to be 1 again',
    });
    const text = await waitFor(
      async () => {
        const scraped = await scrape(server);
        const resynced =
          sample(scraped, 'hyvve_store_resyncs_total', { result: 'same' }) +
          sample(scraped, 'hyvve_store_resyncs_total', { result: 'pushed' }) +
          sample(scraped, 'hyvve_store_resyncs_total', { result: 'reset' });
        return resynced > 0 ? scraped : undefined;
      },
      { timeoutMs: 15_000, what: 'the resync of the open socket' },
    );
    expect(sample(text, 'hyvve_redis_reconnects_total', { connection: 'subscriber' })).toBe(
      reconnectsBefore + 1,
    );
    expect(sample(text, 'hyvve_redis_reconnects_total', { connection: 'command' })).toBeGreaterThan(
      0,
    );
    expect(socket.closed).toBeUndefined();
  });
});

describe('metrics access', () => {
  it('requires METRICS_TOKEN as a bearer token when one is set', async () => {
    const guarded = await testServer({ metricsToken: 'scrape-me' });
    expect(guarded.metricsUrl).toBe(`${guarded.url}/metrics`);
    const anonymous = await fetch(guarded.metricsUrl);
    expect(anonymous.status).toBe(401);
    const wrong = await fetch(guarded.metricsUrl, { headers: { authorization: 'Bearer nope' } });
    expect(wrong.status).toBe(401);
    expect(await scrape(guarded, 'scrape-me')).toContain('hyvve_state_saves_total');
  });

  it('counts nothing and serves no /metrics when metrics are off', async () => {
    const quiet = await testServer({ metrics: false });
    const token = await tokenFor('quiet');
    const body = { state: makeState({ timestamp: T0 + 40 }) };
    expect((await api(quiet, 'POST', PATH, { token, body })).status).toBe(200);
    expect((await api(quiet, 'GET', '/metrics')).status).toBe(404);
    expect(quiet.metrics.enabled).toBe(false);
    expect(await quiet.metrics.text()).not.toContain('hyvve_state_saves_total{');
  });

  it('serves them on METRICS_PORT only when one is set', async () => {
    const separate = await testServer({ metricsPort: 0 });
    expect(new URL(separate.metricsUrl).port).not.toBe(String(separate.port));
    expect((await api(separate, 'GET', '/metrics')).status).toBe(404);
    const text = await scrape(separate);
    // A memory store is always up.
    expect(sample(text, 'hyvve_store_up')).toBe(1);
    await separate.close();
    await expect(fetch(separate.metricsUrl)).rejects.toThrow();
  });
});
