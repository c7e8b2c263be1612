// `npx tsx bench/micro/save-cpu.ts [--saves N] [--rounds R] [--profile DIR]`: server CPU
// per HTTP save, ours in the default configuration (`ours-default`: limits and metrics
// on, auth) against the Redis floor, in the same run. CPU time, not throughput: on a
// shared machine wall-clock rates move with other people's work, the CPU a save costs
// much less, and a single-process server's saves per second is about 1 / (CPU per save).
// Each server gets the http-save load (10 KB states, 2,000 users with their own tokens
// and addresses, 50 connections) for a fixed count of saves after a warm-up that
// verifies every token once; its CPU is read from /proc/<pid>/stat around the counted
// saves. Servers alternate round by round. With --profile each server runs under
// --cpu-prof (profiles in DIR; bench/micro/profile-items.ts splits them by item).
import { setTimeout as sleep } from 'node:timers/promises';
import { parseArgs } from 'node:util';
import autocannon, { type AutocannonRequest } from 'autocannon';
import { startTestRedis } from '../../test-support/redis-server.js';
import { type BenchChild, startBenchChild } from '../lib/bench-child.js';
import { readCpuSeconds } from '../lib/proc-status.js';
import { createStateTemplate, preciseNow } from '../lib/state-template.js';
import { benchUserId, signTokenPool } from '../lib/tokens.js';
import { BENCH_USER_HEADER, SAVE_PATH } from '../servers/env.js';

const { values } = parseArgs({
  options: {
    saves: { type: 'string', default: '20000' },
    rounds: { type: 'string', default: '3' },
    profile: { type: 'string' },
    // Extra Node flags for every server (e.g. --trace-gc).
    'node-arg': { type: 'string', multiple: true, default: [] },
    // Another ours in the same rounds, with extra environment: `label:KEY=VALUE`.
    variant: { type: 'string', multiple: true, default: [] },
    // Load every system at once in each round: they share whatever else the machine does.
    paired: { type: 'boolean', default: false },
    // Another server script in the same rounds (e.g. a build of ours from before a change).
    script: { type: 'string', multiple: true, default: [] },
  },
});
const SAVES = Number(values.saves);
const ROUNDS = Number(values.rounds);
const USERS = 2000;
const CONNECTIONS = 50;
const SECRET = 'save-cpu-bench-secret-0123456789abcdef';

interface System {
  name: string;
  script: string;
  env: Record<string, string>;
}
const SYSTEMS: System[] = [
  { name: 'ours-default', script: 'servers/ours-server.ts', env: {} },
  { name: 'redis-floor', script: 'servers/redis-floor-server.ts', env: {} },
  ...(values.variant ?? []).map((spec) => {
    const [label = spec, setting = ''] = spec.split(':');
    const [key = '', value = ''] = setting.split('=');
    return { name: `ours-${label}`, script: 'servers/ours-server.ts', env: { [key]: value } };
  }),
  ...(values.script ?? []).map((spec) => {
    const [label = spec, script = spec] = spec.split(':');
    return { name: label, script, env: {} };
  }),
];

const redis = await startTestRedis();
const tokens = await signTokenPool(SECRET, USERS);
const template = createStateTemplate(10 * 1024);
const lastTimestamp = new Float64Array(USERS);
let next = 0;

function requests(): AutocannonRequest[] {
  return [
    {
      method: 'POST',
      path: SAVE_PATH,
      setupRequest: (request) => {
        const user = next++ % USERS;
        let timestamp = preciseNow();
        const last = lastTimestamp[user] ?? 0;
        if (timestamp <= last) timestamp = last + 0.001;
        lastTimestamp[user] = timestamp;
        const a = (user >> 8) & 255;
        const b = user & 255;
        return {
          ...request,
          headers: {
            authorization: `Bearer ${tokens[user]}`,
            'content-type': 'application/json',
            [BENCH_USER_HEADER]: benchUserId(user),
            'x-forwarded-for': `10.0.${a}.${b}`,
          },
          body: template.saveBody(timestamp),
        };
      },
    },
  ];
}

async function fire(url: string, amount: number): Promise<number> {
  const result = await autocannon({
    url,
    connections: CONNECTIONS,
    amount,
    timeout: 10,
    requests: requests(),
  });
  if (result.non2xx > 0 || result.errors > 0) {
    throw new Error(`${url}: ${result.non2xx} non-2xx, ${result.errors} errors`);
  }
  return result['2xx'];
}

async function start(system: System, round: number): Promise<BenchChild & { url: string }> {
  const name = `${system.name}-${round}`;
  const child = await startBenchChild({
    name,
    script: system.script,
    nodeArgs: [
      ...(values['node-arg'] ?? []),
      ...(values.profile === undefined
        ? []
        : ['--cpu-prof', `--cpu-prof-dir=${values.profile}/${name}-${Date.now()}`]),
    ],
    env: {
      NODE_ENV: 'production',
      BENCH_REDIS_URL: redis.url,
      BENCH_AUTH_SECRET: SECRET,
      BENCH_INSTANCE_ID: name,
      BENCH_METRICS: 'on',
      BENCH_RATE_LIMIT: 'default',
      ...system.env,
    },
  });
  return Object.assign(child, { url: `http://127.0.0.1:${child.port}` });
}

async function measure(system: System, round: number): Promise<number> {
  const server = await start(system, round);
  try {
    // Every token verified once, the JIT warm, the Redis keys there.
    await fire(server.url, USERS * 3);
    // Idle gaps around the counted saves mark them in a profile, to cut them out of it.
    if (values.profile !== undefined) await sleep(1000);
    const before = await readCpuSeconds(server.pid);
    const served = await fire(server.url, SAVES);
    const after = await readCpuSeconds(server.pid);
    if (values.profile !== undefined) await sleep(1000);
    return ((after - before) * 1e6) / served;
  } finally {
    await server.stop();
  }
}

/** All systems at once: the same load on each, at the same time, so the same contention. */
async function measureTogether(round: number): Promise<number[]> {
  const servers = await Promise.all(SYSTEMS.map((system) => start(system, round)));
  try {
    await Promise.all(servers.map((server) => fire(server.url, USERS * 3)));
    const before = await Promise.all(servers.map((server) => readCpuSeconds(server.pid)));
    const served = await Promise.all(servers.map((server) => fire(server.url, SAVES)));
    const after = await Promise.all(servers.map((server) => readCpuSeconds(server.pid)));
    return servers.map(
      (_, i) => (((after[i] ?? 0) - (before[i] ?? 0)) * 1e6) / (served[i] ?? Number.NaN),
    );
  } finally {
    await Promise.all(servers.map((server) => server.stop()));
  }
}

const results = new Map<string, number[]>(SYSTEMS.map((system) => [system.name, []]));
try {
  for (let round = 0; values.paired && round < ROUNDS; round++) {
    const rounds = await measureTogether(round);
    SYSTEMS.forEach((system, i) => {
      results.get(system.name)?.push(rounds[i] ?? Number.NaN);
      console.log(`round ${round} ${system.name}: ${(rounds[i] ?? 0).toFixed(1)} µs CPU per save`);
    });
  }
  for (let round = 0; !values.paired && round < ROUNDS; round++) {
    // The order rotates each round, so no system always goes first.
    const order = SYSTEMS.map((_, i) => SYSTEMS[(i + round) % SYSTEMS.length] as System);
    for (const system of order) {
      const us = await measure(system, round);
      results.get(system.name)?.push(us);
      console.log(`round ${round} ${system.name}: ${us.toFixed(1)} µs CPU per save`);
    }
  }
} finally {
  await redis.close();
}
const median = (xs: number[]): number => {
  const sorted = [...xs].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)] ?? Number.NaN;
};
const floor = median(results.get('redis-floor') ?? []);
for (const [name, rounds] of results) {
  const us = median(rounds);
  console.log(
    `${name}: median ${us.toFixed(1)} µs per save (${rounds.map((r) => r.toFixed(0)).join(' / ')}), floor/this ${(floor / us).toFixed(3)}`,
  );
}
