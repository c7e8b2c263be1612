// What a request costs Redis in the default configuration (per-user and per-IP limits on,
// metrics on): every command the server's connections send is seen with MONITOR (commands
// run inside a script are reported as coming from `lua` and are not counted), and the
// calls of EVAL/EVALSHA are read from INFO commandstats as well. One command per accepted
// save (HTTP POST, PATCH, socket save and patch-save; a user's first patch reads the store
// first), one per read, delete and renewal;
// the per-IP leases are settled apart, in batches.
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeState } from '../../../test-support/fixtures.js';
import { startTestRedis, type TestRedis } from '../../../test-support/redis-server.js';
import { DEFAULT_RATE_LIMIT, type RunningServer } from '../src/index.js';
import { api, testServer, tokenFor, wsUrl } from './support/servers.js';
import { TestSocket } from './support/test-socket.js';

const PATH = '/api/dashboard/state';
const T0 = 1_700_000_000_000;
let redis: TestRedis;
let client: Redis;
let server: RunningServer;
const seen: { args: string[]; source: string }[] = [];
let monitor: Redis | undefined;

beforeAll(async () => {
  redis = await startTestRedis();
  client = new Redis(redis.url);
  // The default configuration: limits and metrics on.
  server = await testServer({ redisUrl: redis.url, rateLimit: DEFAULT_RATE_LIMIT });
  monitor = (await client.monitor()) as unknown as Redis;
  monitor.on('monitor', (_time: string, args: string[], source: string) => {
    seen.push({ args, source });
  });
});
afterAll(async () => {
  monitor?.disconnect();
  client.disconnect();
  await server.close();
  await redis.close();
});

/** EVAL + EVALSHA calls so far, from INFO commandstats. */
async function scriptCalls(): Promise<number> {
  const info = await new Redis(redis.url).info('commandstats').finally(() => {});
  let calls = 0;
  for (const line of info.split('\n')) {
    const match = /^cmdstat_(eval|evalsha):calls=(\d+)/.exec(line);
    if (match) calls += Number(match[2]);
  }
  return calls;
}

/**
 * Waits until no IP settlement was seen for longer than a lease lives (0.5 s) plus a flush:
 * the handshake's lease is settled and its unspent tokens have gone back.
 */
async function untilLeasesSettled(): Promise<void> {
  let count = -1;
  let since = performance.now();
  await expect
    .poll(
      () => {
        const now = seen.filter((entry) => entry.source !== 'lua' && isIpSettlement(entry.args));
        if (now.length !== count) {
          count = now.length;
          since = performance.now();
        }
        return performance.now() - since;
      },
      { timeout: 15_000, interval: 50 },
    )
    .toBeGreaterThan(700);
}

/** Where MONITOR saw the INFO commands of `scriptCalls`. */
function infoIndexes(): number[] {
  const indexes: number[] = [];
  seen.forEach((entry, index) => {
    // ioredis's own ready check on connecting is an INFO too, without a section.
    const [name, section] = entry.args;
    if (name?.toLowerCase() === 'info' && section === 'commandstats') indexes.push(index);
  });
  return indexes;
}

function isIpSettlement(args: string[]): boolean {
  return args.some((arg) => arg.startsWith('dashboard:ratelimit:ip:'));
}

/**
 * Runs `work` and returns what the server sent Redis meanwhile: its commands (not those
 * run inside scripts), without the per-IP settlements, which are counted apart.
 */
async function commandsOf(work: () => Promise<void>) {
  // A PING through the monitored Redis marks where the window starts and ends.
  const marker = `mark-${Math.random()}`;
  await client.echo(`${marker}-start`);
  await work();
  await client.echo(`${marker}-end`);
  await expect.poll(() => seen.some((entry) => entry.args[1] === `${marker}-end`)).toBe(true);
  const start = seen.findIndex((entry) => entry.args[1] === `${marker}-start`);
  const end = seen.findIndex((entry) => entry.args[1] === `${marker}-end`);
  const window = seen.slice(start + 1, end).filter((entry) => entry.source !== 'lua');
  return {
    commands: window.filter((entry) => !isIpSettlement(entry.args)).map((entry) => entry.args[0]),
    settlements: window.filter((entry) => isIpSettlement(entry.args)).length,
  };
}

describe('Redis commands per request, default configuration', () => {
  it('HTTP: one EVALSHA per accepted save, PATCH, read and delete; the IP leases settle in batches', async () => {
    const token = await tokenFor('cost-http');
    // Warm-up: the scripts are loaded and this IP holds a lease.
    expect(
      (await api(server, 'POST', PATH, { token, body: { state: makeState({ timestamp: T0 }) } }))
        .status,
    ).toBe(200);
    const saves = 20;
    const infosBefore = infoIndexes().length;
    const before = await scriptCalls();
    const started = performance.now();
    const { commands, settlements } = await commandsOf(async () => {
      for (let i = 1; i <= saves; i++) {
        const body = { state: makeState({ timestamp: T0 + i }) };
        expect((await api(server, 'POST', PATH, { token, body })).status).toBe(200);
      }
    });
    const elapsedMs = performance.now() - started;
    expect(commands).toEqual(Array(saves).fill('evalsha'));
    // INFO commandstats agrees: the saves' EVALSHAs and the settlements, plus nothing else.
    // A settlement may run just outside the markers, so count those between the two INFOs
    // (MONITOR lists commands in the order Redis ran them).
    const after = await scriptCalls();
    await expect.poll(() => infoIndexes().length).toBe(infosBefore + 2);
    const [first, last] = infoIndexes().slice(-2) as [number, number];
    const settledBetween = seen
      .slice(first + 1, last)
      .filter((entry) => entry.source !== 'lua' && isIpSettlement(entry.args)).length;
    expect(settledBetween).toBeGreaterThanOrEqual(settlements);
    expect(after - before).toBe(saves + settledBetween);
    // Settled at most once per 50 ms flush (and one more at the edge of the window).
    expect(settlements).toBeLessThanOrEqual(Math.ceil(elapsedMs / 50) + 1);

    const patchTo = async (activeProject: string) => {
      const response = await api(server, 'PATCH', PATH, {
        token,
        rawBody: JSON.stringify({ activeProject }),
        headers: { 'content-type': 'application/merge-patch+json' },
      });
      expect(response.status).toBe(200);
    };
    // This user never patched, so their saves were not remembered (most users never patch,
    // and remembering every save's text cost each save GC work): the first PATCH reads the
    // store, then saves the patched state, one EVALSHA each.
    const firstPatch = await commandsOf(() => patchTo('p-9'));
    expect(firstPatch.commands).toEqual(['evalsha', 'evalsha']);
    // From a patch on, the user's saves are remembered: a save and a PATCH of it, one each.
    const saveThenPatch = await commandsOf(async () => {
      // A patch stamps the state with the server's time: the save follows it.
      const state = { ...makeState({ timestamp: Date.now() }), activeProject: 'p-saved' };
      expect((await api(server, 'POST', PATH, { token, body: { state } })).status).toBe(200);
      await patchTo('p-10');
    });
    expect(saveThenPatch.commands).toEqual(['evalsha', 'evalsha']);
    const read = await commandsOf(async () => {
      const response = await api(server, 'GET', PATH, { token });
      expect(response.status).toBe(200);
      expect(response.body).toMatchObject({ state: { activeProject: 'p-10' }, revision: 24 });
    });
    expect(read.commands).toEqual(['evalsha']);
    const removed = await commandsOf(async () => {
      expect((await api(server, 'DELETE', PATH, { token })).status).toBe(204);
    });
    expect(removed.commands).toEqual(['evalsha']);
  });

  it('WebSocket: one EVALSHA per save and patch-save, one per renewal, none for the IP after auth', async () => {
    const token = await tokenFor('cost-ws');
    const { socket } = await TestSocket.ready(wsUrl(server), token);
    try {
      socket.send({ type: 'save', id: 'warm', state: makeState({ timestamp: T0 }) });
      await socket.next('saved', (m) => m.id === 'warm');
      // The user's first patch reads the store (their saves were not remembered), then saves.
      const firstPatch = await commandsOf(async () => {
        socket.send({ type: 'patch-save', id: 'p0', patch: { activeProject: 'p-0' } });
        await socket.next('saved', (m) => m.id === 'p0');
      });
      expect(firstPatch.commands).toEqual(['evalsha', 'evalsha']);
      await untilLeasesSettled();
      const rounds = 10;
      const { commands, settlements } = await commandsOf(async () => {
        for (let i = 1; i <= rounds; i++) {
          // A patch stamps the state with the server's time: saves follow it.
          socket.send({ type: 'save', id: `s${i}`, state: makeState({ timestamp: Date.now() }) });
          await socket.next('saved', (m) => m.id === `s${i}`);
          socket.send({ type: 'patch-save', id: `p${i}`, patch: { activeProject: `p-${i}` } });
          await socket.next('saved', (m) => m.id === `p${i}`);
        }
      });
      expect(commands).toEqual(Array(rounds * 2).fill('evalsha'));
      expect(settlements).toBe(0);
      const renewal = await commandsOf(async () => {
        socket.send({ type: 'auth', token });
        await socket.next('ready', (m) => m.revision === rounds * 2 + 2);
      });
      expect(renewal.commands).toEqual(['evalsha']);
    } finally {
      socket.close();
    }
  });

  it('a limited save is refused inside its script: 429 with Retry-After, then locally until the wait is over', async () => {
    // A slow refill (one token per 5 s), so the wait a refusal names outlasts a loaded
    // machine's pause between the burst and the next request; the rule is the same.
    const limits = { ...DEFAULT_RATE_LIMIT, savesPerSecond: 0.2 };
    const slow = await testServer({ redisUrl: redis.url, rateLimit: limits });
    try {
      const token = await tokenFor('cost-limited');
      const started = performance.now();
      const responses = await Promise.all(
        Array.from({ length: 3 * limits.burst }, (_, i) =>
          api(slow, 'POST', PATH, { token, body: { state: makeState({ timestamp: T0 + i }) } }),
        ),
      );
      const seconds = (performance.now() - started) / 1000;
      // Spent first, before the newer-wins check: a save let through is 200 or 409.
      const through = responses.filter((response) => response.status !== 429).length;
      expect(through).toBeGreaterThanOrEqual(limits.burst);
      expect(through).toBeLessThanOrEqual(
        limits.burst + Math.ceil(seconds * limits.savesPerSecond),
      );
      const limited = responses.find((response) => response.status === 429);
      expect(Number(limited?.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
      expect(limited?.body).toMatchObject({ error: 'rate_limited' });
      // Known empty now: the next refusal costs Redis nothing.
      const again = await commandsOf(async () => {
        const response = await api(slow, 'POST', PATH, {
          token,
          body: { state: makeState({ timestamp: T0 + 500 }) },
        });
        if (response.status !== 429) throw new Error(`expected 429, got ${response.status}`);
      });
      expect(again.commands).toEqual([]);
    } finally {
      await slow.close();
    }
  });
});
