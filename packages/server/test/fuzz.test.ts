// Property-based fuzzing of the real server on real Redis, over HTTP and WebSocket:
// random and mutated states, bodies, headers and tokens. Whatever comes in, every
// answer is a 2xx/3xx, or a 4xx with a clear error; never a 5xx; nothing is stored from
// a refused request; and user A's requests never read, change or hear user B's state.
// Bounded (about 20 s in `npm test`), with the run's seed (printed once; FC_SEED=<seed>
// replays it); FUZZ_MS=300000 for longer runs.

import fc from 'fast-check';
import { Redis } from 'ioredis';
import { SignJWT, UnsecuredJWT } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeState } from '../../../test-support/fixtures.js';
import { startTestRedis, type TestRedis } from '../../../test-support/redis-server.js';
import { namingSeed, runSeed } from '../../../test-support/run-seed.js';
import { secretKey } from '../src/auth/token.js';
import type { RunningServer } from '../src/index.js';
import { api, field, TEST_SECRET, testServer, tokenFor, wsUrl } from './support/servers.js';
import { TestSocket } from './support/test-socket.js';
import { waitFor } from './support/wait-for.js';

const PATH = '/api/dashboard/state';
const SEED = runSeed();
const TOTAL_MS = Number(process.env.FUZZ_MS ?? 20_000);
const T0 = 1_700_000_000_000;

let redis: TestRedis;
let client: Redis;
let server: RunningServer;
/** Tokens by kind: `a` is the attacker's own valid token; every other kind must be refused. */
const tokens: Record<string, string | undefined> = {};
let bToken = '';
let bState = '';
let observer: TestSocket;

const now = () => Math.floor(Date.now() / 1000);
const signed = (jwt: SignJWT, alg = 'HS256', secret = TEST_SECRET) =>
  jwt.setProtectedHeader({ alg }).sign(secretKey(secret));

beforeAll(async () => {
  redis = await startTestRedis();
  client = new Redis(redis.url);
  client.on('error', () => {});
  server = await testServer({ redisUrl: redis.url, instanceId: 'fuzz' });
  tokens.a = await tokenFor('alice');
  bToken = await tokenFor('bob');
  const bClaims = () => new SignJWT({ wid: 'acme' }).setSubject('bob');
  Object.assign(tokens, {
    none: undefined,
    forged: await tokenFor('bob', 'acme', 'not-the-secret-not-the-secret-0000'),
    expired: await signed(
      bClaims()
        .setIssuedAt(now() - 120)
        .setExpirationTime(now() - 60),
    ),
    noExp: await signed(bClaims()),
    hs512: await signed(bClaims().setExpirationTime('1h'), 'HS512'),
    algNone: new UnsecuredJWT({ sub: 'bob', wid: 'acme', exp: now() + 3600 }).encode(),
    tooLong: await signed(bClaims().setIssuedAt().setExpirationTime('30d')),
    badIds: await signed(new SignJWT({ wid: 'acme:*' }).setSubject('bob').setExpirationTime('1h')),
    garbage: 'not.a.jwt',
  });
  const saved = await api(server, 'POST', PATH, { token: bToken, body: { state: makeState() } });
  expect(saved.status).toBe(200);
  bState = (await api(server, 'GET', PATH, { token: bToken })).text;
  observer = (await TestSocket.ready(wsUrl(server), bToken)).socket;
}, 30_000);

afterAll(async () => {
  observer?.close();
  await server?.close();
  client?.disconnect();
  await redis?.close();
}, 30_000);

const tokenKind = fc.constantFrom(
  ...[
    'a',
    'a',
    'a',
    'none',
    'forged',
    'expired',
    'noExp',
    'hs512',
    'algNone',
    'tooLong',
    'badIds',
    'garbage',
  ],
);

/** A valid state, sometimes with one value somewhere replaced by random JSON. */
const state = fc
  .record({
    offset: fc.integer({ min: -1_000_000, max: 1_000_000_000 }),
    alerts: fc.integer({ min: 0, max: 60 }),
    mutate: fc.option(
      fc.record({
        path: fc.array(fc.string({ maxLength: 12 }), { minLength: 1, maxLength: 3 }),
        value: fc.jsonValue({ maxDepth: 2 }),
      }),
      { freq: 2 },
    ),
    owner: fc.constantFrom(undefined, undefined, 'alice', 'bob'),
  })
  .map(({ offset, alerts, mutate, owner }) => {
    const built: Record<string, unknown> = makeState({ timestamp: T0 + offset, alerts });
    if (owner !== undefined) built.userId = owner;
    if (mutate) {
      const keys = ['widgets', 'loading', 'activeProject', 'version', 'timestamp', 'errors'];
      let target: Record<string, unknown> = built;
      const path = [keys[mutate.path.length % keys.length] ?? 'widgets', ...mutate.path.slice(1)];
      for (const key of path.slice(0, -1)) {
        const next = target[key];
        if (typeof next !== 'object' || next === null) break;
        target = next as Record<string, unknown>;
      }
      target[path[path.length - 1] ?? 'x'] = mutate.value;
    }
    return built;
  });

const body = fc.oneof(
  { weight: 4, arbitrary: state.map((s) => JSON.stringify({ state: s })) },
  { weight: 1, arbitrary: state.map((s) => JSON.stringify({ state: s, origin: 'fuzz' })) },
  { weight: 1, arbitrary: fc.json({ maxDepth: 3 }) },
  { weight: 1, arbitrary: fc.string({ maxLength: 64 }) },
  { weight: 1, arbitrary: state.map((s) => JSON.stringify(s)) },
  { weight: 1, arbitrary: fc.constant(undefined) },
);

const request = fc.record({
  method: fc.constantFrom('GET', 'POST', 'PUT', 'DELETE', 'PATCH'),
  token: tokenKind,
  authScheme: fc.constantFrom('Bearer ', 'Bearer ', 'bearer  ', 'Basic ', ''),
  contentType: fc.constantFrom(
    'application/json',
    'application/json',
    'text/plain',
    'application/merge-patch+json',
    undefined,
  ),
  body,
  ifMatch: fc.option(
    fc.oneof(
      fc.nat({ max: 5 }).map((n) => `"${n}"`),
      fc.string({ maxLength: 8 }),
    ),
  ),
  ifNoneMatch: fc.option(
    fc.oneof(
      fc.nat({ max: 5 }).map((n) => `"${n}"`),
      fc.string({ maxLength: 8 }),
    ),
  ),
});

/** Alice's revision counter as Redis holds it (a delete keeps it; 0 before any save). */
async function storedRevisionOfA(): Promise<number> {
  const counter = await client.get('dashboard:state:revision:{acme:alice}');
  return counter === null ? 0 : Number(counter.split(':')[0]);
}

async function revisionOfA(): Promise<string | null> {
  const res = await api(server, 'GET', PATH, { token: tokens.a ?? '' });
  return res.status === 200 ? res.headers.get('etag') : null;
}

function expectClearError(status: number, answer: unknown, context: string): void {
  expect(status, context).toBeLessThan(500);
  if (status >= 400) {
    expect(typeof field(answer, 'error'), context).toBe('string');
    expect(typeof field(answer, 'message'), context).toBe('string');
  }
}

async function expectBUntouched(): Promise<void> {
  const res = await api(server, 'GET', PATH, { token: bToken });
  expect(res.text).toBe(bState);
  // B's socket heard nothing since its ready: nobody else's change reached it.
  expect(observer.messages.map((message) => message.type)).toEqual(['ready']);
  expect(observer.closed).toBeUndefined();
}

/** Runs per `fc.assert`: the budget is spent in whole batches, each with its own seed. */
const BATCH_RUNS = 10;

/**
 * Checks `property` in batches of whole runs until half the fuzzing time has passed.
 * Not fast-check's `interruptAfterTimeLimit`: it abandons the run under way, which goes
 * on in the background and can still be talking to the server when `afterAll` closes it.
 */
async function assertForHalfTheTime<Ts extends [unknown, ...unknown[]]>(
  property: fc.IAsyncPropertyWithHooks<Ts>,
): Promise<void> {
  const deadline = performance.now() + TOTAL_MS / 2;
  for (let batch = 0; performance.now() < deadline; batch++) {
    try {
      await fc.assert(property, { numRuns: BATCH_RUNS, seed: SEED + batch });
    } catch (error) {
      throw namingSeed(error, SEED);
    }
  }
}

describe('fuzzing the API', () => {
  it(
    'HTTP: every answer is 2xx/3xx or a clear 4xx, refused requests store nothing, B is untouched',
    async () => {
      let runs = 0;
      await assertForHalfTheTime(
        fc.asyncProperty(request, async (r) => {
          runs += 1;
          const before = await revisionOfA();
          const headers: Record<string, string> = {};
          const token = tokens[r.token];
          if (token !== undefined || r.token !== 'none')
            headers.authorization = `${r.authScheme}${token ?? ''}`;
          if (r.contentType !== undefined && r.body !== undefined)
            headers['content-type'] = r.contentType;
          if (r.ifMatch !== null) headers['if-match'] = r.ifMatch;
          if (r.ifNoneMatch !== null) headers['if-none-match'] = r.ifNoneMatch;
          const res = await fetch(`${server.url}${PATH}`, {
            method: r.method,
            headers,
            ...(r.body === undefined || r.method === 'GET' ? {} : { body: r.body }),
          });
          const text = await res.text();
          let answer: unknown;
          try {
            answer = text ? JSON.parse(text) : undefined;
          } catch {
            answer = undefined;
          }
          const context = `${r.method} ${r.token} → ${res.status} ${text.slice(0, 200)}`;
          expectClearError(res.status, answer, context);
          const validA = r.token === 'a' && /^bearer\s+$/i.test(r.authScheme);
          if (!validA) expect(res.status, context).toBe(401);
          if (res.status >= 400) expect(await revisionOfA(), context).toBe(before);
          await expectBUntouched();
        }),
      );
      expect(runs).toBeGreaterThan(20);
      // Every key in Redis belongs to alice or bob (plus nothing under another name).
      const keys = await client.keys('dashboard:*');
      for (const key of keys) expect(key).toMatch(/\{acme:(alice|bob)\}|:acme:(alice|bob)$/);
    },
    TOTAL_MS + 30_000,
  );

  it(
    'WebSocket: every answer is a clear 4xx or success, closes carry a reason, B hears nothing',
    async () => {
      const frame = fc.oneof(
        { weight: 4, arbitrary: fc.record({ type: fc.constant('save'), state, id: fc.uuid() }) },
        {
          weight: 1,
          arbitrary: fc.record({
            type: fc.constant('save'),
            state,
            id: fc.uuid(),
            baseRevision: fc.integer({ min: -2, max: 10 }),
          }),
        },
        { weight: 1, arbitrary: fc.record({ type: fc.constant('delete'), id: fc.uuid() }) },
        {
          weight: 1,
          arbitrary: fc.record({
            type: fc.constant('auth'),
            token: fc.constantFrom('a', 'forged', 'expired', 'noExp', 'algNone', 'bob'),
          }),
        },
        { weight: 1, arbitrary: fc.jsonValue({ maxDepth: 3 }) },
        { weight: 1, arbitrary: fc.string({ maxLength: 40 }).map((text) => ({ raw: text })) },
      );
      let runs = 0;
      await assertForHalfTheTime(
        fc.asyncProperty(
          fc.constantFrom('header', 'message'),
          fc.array(frame, { minLength: 1, maxLength: 6 }),
          async (via, frames) => {
            runs += 1;
            const before = await storedRevisionOfA();
            const { socket } = await TestSocket.ready(
              wsUrl(server),
              tokens.a ?? '',
              via as 'header' | 'message',
            );
            // The first renewal as bob: the server must close the socket with 4403 there.
            const bobAt = frames.findIndex(
              (f) => typeof f === 'object' && f !== null && 'token' in f && f.token === 'bob',
            );
            const ids: string[] = [];
            const idsBeforeBob: string[] = [];
            frames.forEach((f, index) => {
              if (typeof f === 'object' && f !== null && 'raw' in f) socket.send(String(f.raw));
              else if (
                typeof f === 'object' &&
                f !== null &&
                'type' in f &&
                f.type === 'auth' &&
                'token' in f
              ) {
                const kind = String(f.token);
                socket.send({
                  type: 'auth',
                  token: kind === 'bob' ? bToken : (tokens[kind] ?? ''),
                });
              } else {
                if (
                  typeof f === 'object' &&
                  f !== null &&
                  'id' in f &&
                  typeof f.id === 'string' &&
                  'type' in f &&
                  (f.type === 'save' || f.type === 'delete')
                ) {
                  ids.push(f.id);
                  if (bobAt < 0 || index < bobAt) idsBeforeBob.push(f.id);
                }
                socket.send(f);
              }
            });
            const answered = (id: string) =>
              socket.messages.some(
                (m) =>
                  (m.type === 'saved' || m.type === 'error' || m.type === 'delete-ack') &&
                  m.id === id,
              );
            await waitFor(() => socket.closed !== undefined || (bobAt < 0 && ids.every(answered)), {
              timeoutMs: 10_000,
              what: bobAt < 0 ? 'answers to every save and delete' : 'the 4403 close',
            });
            // Taken before this test's own terminate(), which always closes with 1006.
            const closedByServer = socket.closed;
            socket.close();
            await socket.waitClosed();
            const context = JSON.stringify({ frames, seen: socket.texts }).slice(0, 600);
            expect(closedByServer?.code, context).toBe(bobAt < 0 ? undefined : 4403);
            for (const message of socket.messages) {
              if (message.type === 'error')
                expectClearError(message.status, message, JSON.stringify(message).slice(0, 200));
            }
            // Nothing stored past what was acknowledged: the counter is the last revision
            // answered, plus at most the writes sent before a 4403 whose answers it cut
            // off; nothing sent after the refused renewal is stored.
            const acked = socket.messages.flatMap((m) =>
              m.type === 'saved' || m.type === 'delete-ack' ? [m.revision] : [],
            );
            const cutOff = idsBeforeBob.filter((id) => !answered(id)).length;
            const floor = Math.max(before, ...acked);
            const after = await storedRevisionOfA();
            expect(after, context).toBeGreaterThanOrEqual(floor);
            expect(after, context).toBeLessThanOrEqual(floor + cutOff);
            await expectBUntouched();
          },
        ),
      );
      expect(runs).toBeGreaterThan(10);
    },
    TOTAL_MS + 30_000,
  );
});
