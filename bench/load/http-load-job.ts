// Load process running autocannon against one save route: many users, each request
// with the next user's pre-signed token, that user's own client address (X-Forwarded-For,
// trusted by our server: the per-IP limit sees many clients, as behind a load balancer)
// and a fresh, increasing state timestamp, so every save is accepted by a server that
// applies the newer-wins rule.
import autocannon, { type AutocannonRequest, type AutocannonResult } from 'autocannon';
import { runJobChild } from '../lib/child-side.js';
import { createStateTemplate, preciseNow } from '../lib/state-template.js';
import { benchUserId } from '../lib/tokens.js';

export interface HttpLoadConfig {
  url: string;
  path: string;
  connections: number;
  durationS: number;
  /** Seconds of the same load first, not counted (JIT, connection pools, Redis memory). */
  warmupS: number;
  /** One pre-signed token per user; request i goes to user i mod tokens.length. */
  tokens: string[];
  /** Floors have no auth: they take the user from this header. */
  userHeader: string;
  stateBytes: number;
}

export interface HttpLoadResult {
  requestsPerSec: number;
  latencyMs: { mean: number; p50: number; p90: number; p99: number; max: number };
  throughputBytesPerSec: number;
  total2xx: number;
  non2xx: number;
  errors: number;
  timeouts: number;
  statusCodes: Record<string, number>;
  warmup: { requestsPerSec: number; requests: number; non2xx: number; errors: number };
  cpuSeconds: number;
  durationS: number;
}

/** A distinct client address per user (10.x.y.z). */
function clientAddress(user: number): string {
  return `10.${(user >> 16) & 255}.${(user >> 8) & 255}.${user & 255}`;
}

function requestFactory(config: HttpLoadConfig): AutocannonRequest[] {
  const template = createStateTemplate(config.stateBytes);
  const lastTimestamp = new Float64Array(config.tokens.length);
  let next = 0;
  return [
    {
      method: 'POST',
      path: config.path,
      setupRequest: (request) => {
        const user = next++ % config.tokens.length;
        let timestamp = preciseNow();
        const last = lastTimestamp[user] ?? 0;
        if (timestamp <= last) timestamp = last + 0.001;
        lastTimestamp[user] = timestamp;
        return {
          ...request,
          headers: {
            authorization: `Bearer ${config.tokens[user]}`,
            'content-type': 'application/json',
            [config.userHeader]: benchUserId(user),
            'x-forwarded-for': clientAddress(user),
          },
          body: template.saveBody(timestamp),
        };
      },
    },
  ];
}

async function fire(config: HttpLoadConfig, durationS: number): Promise<AutocannonResult> {
  return autocannon({
    url: config.url,
    connections: config.connections,
    duration: durationS,
    timeout: 10,
    requests: requestFactory(config),
  });
}

runJobChild<HttpLoadConfig, HttpLoadResult>(async (config) => {
  const warmup = config.warmupS > 0 ? await fire(config, config.warmupS) : null;
  const cpuAtStart = process.cpuUsage();
  const result = await fire(config, config.durationS);
  const cpu = process.cpuUsage(cpuAtStart);
  const statusCodes: Record<string, number> = {};
  for (const [code, stats] of Object.entries(result.statusCodeStats))
    statusCodes[code] = stats.count;
  return {
    requestsPerSec: result.requests.average,
    latencyMs: {
      mean: result.latency.average,
      p50: result.latency.p50,
      p90: result.latency.p90,
      p99: result.latency.p99,
      max: result.latency.max,
    },
    throughputBytesPerSec: result.throughput.average,
    total2xx: result['2xx'],
    non2xx: result.non2xx,
    errors: result.errors,
    timeouts: result.timeouts,
    statusCodes,
    warmup: {
      requestsPerSec: warmup?.requests.average ?? 0,
      requests: (warmup?.['2xx'] ?? 0) + (warmup?.non2xx ?? 0),
      non2xx: warmup?.non2xx ?? 0,
      errors: warmup?.errors ?? 0,
    },
    cpuSeconds: (cpu.user + cpu.system) / 1e6,
    durationS: result.duration,
  };
});
