// The story's service scenarios, against real Redis: save with the right TTL, save
// publishes, oversized rejected, missing is null, delete removes, subscribe receives.
import { type ChannelMessage, MAX_STATE_SIZE_BYTES, STATE_VERSION } from '@hyvve/schema';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeState } from '../../../test-support/fixtures.js';
import { startTestRedis, type TestRedis } from '../../../test-support/redis-server.js';
import {
  InvalidIdError,
  InvalidStateError,
  MemoryStateStore,
  OptionError,
  RedisStateStore,
  StaleRevisionError,
  StateConflictError,
  StatePersistenceService,
  StateTooLargeError,
  StoreUnavailableError,
  stateScope,
} from '../src/index.js';
import { waitFor } from './support/wait-for.js';

let redis: TestRedis;
let client: Redis;
let service: StatePersistenceService;
let store: RedisStateStore;

beforeAll(async () => {
  redis = await startTestRedis();
  client = new Redis(redis.url);
  client.on('error', () => {});
  store = new RedisStateStore({ url: redis.url });
  await store.waitUntilReady(5000);
  service = new StatePersistenceService({ store, ttlSeconds: 3600 });
});
afterAll(async () => {
  await service.close();
  client.disconnect();
  await redis.close();
});

/** A fixed, realistic base time: activity timestamps are derived from it. */
const T0 = 1_700_000_000_000;
let n = 0;
const owner = () => ({ workspaceId: 'acme', userId: `svc-user-${++n}` });

describe('StatePersistenceService.save', () => {
  it('saves with the configured TTL and returns revision and savedAt', async () => {
    const who = owner();
    const before = Date.now();
    const result = await service.save(who, makeState());
    expect(result.revision).toBe(1);
    expect(result.savedAt).toBeGreaterThanOrEqual(before);
    const ttl = await client.ttl(stateScope(who.workspaceId, who.userId).stateKey);
    expect(ttl).toBeGreaterThan(3500);
    expect(ttl).toBeLessThanOrEqual(3600);
  });

  it('publishes the saved state to subscribers', async () => {
    const who = owner();
    const received: ChannelMessage[] = [];
    const subscription = await service.subscribe(who, (message) => received.push(message));
    const state = makeState({ alerts: 2 });
    const { revision, savedAt } = await service.save(who, state, { origin: 'tab-a' });
    await waitFor(() => received.length === 1);
    expect(received[0]).toEqual({
      type: 'state',
      state,
      revision,
      savedAt,
      timestamp: state.timestamp,
      origin: 'tab-a',
    });
    await subscription.unsubscribe();
  });

  it('never persists the transient loading and error parts', async () => {
    const who = owner();
    const state = {
      ...makeState(),
      loading: { isLoading: true, loadingAgents: ['planner'], startedAt: 5 },
      errors: { planner: 'timed out' },
    };
    await service.save(who, state);
    const stored = await service.load(who);
    expect(stored?.state.loading).toEqual({ isLoading: false, loadingAgents: [] });
    expect(stored?.state.errors).toEqual({});
    expect(stored?.state.widgets).toEqual(state.widgets);
  });

  it('rejects a state over 1 MB with its size and the limit, storing nothing', async () => {
    const who = owner();
    const error = await service
      .save(who, makeState({ targetBytes: MAX_STATE_SIZE_BYTES + 10 }))
      .catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(StateTooLargeError);
    expect(error).toMatchObject({ limit: MAX_STATE_SIZE_BYTES });
    expect((error as StateTooLargeError).size).toBeGreaterThan(MAX_STATE_SIZE_BYTES);
    expect(await service.load(who)).toBeNull();
  });

  it('accepts a state just under the limit', async () => {
    const who = owner();
    await expect(
      service.save(who, makeState({ targetBytes: MAX_STATE_SIZE_BYTES - 1000 })),
    ).resolves.toMatchObject({ revision: 1 });
  });

  it('rejects a state that fails the schema, naming the failing path', async () => {
    const state = makeState();
    const broken = { ...state, widgets: { ...state.widgets, alerts: [{ id: 'a', type: 'loud' }] } };
    const error = await service.save(owner(), broken).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(InvalidStateError);
    expect((error as InvalidStateError).path).toBe('widgets.alerts.0.type');
  });

  it('rejects ids that could name another key before touching the store', async () => {
    await expect(service.save({ workspaceId: 'acme', userId: 'a:b' }, makeState())).rejects.toThrow(
      InvalidIdError,
    );
    await expect(service.load({ workspaceId: '*', userId: 'bob' })).rejects.toThrow(InvalidIdError);
    expect(await client.keys('dashboard:state:*\\**')).toEqual([]);
  });

  it('throws StaleRevisionError with both revisions when If-Match is stale', async () => {
    const who = owner();
    await service.save(who, makeState({ timestamp: T0 + 1 }));
    await service.save(who, makeState({ timestamp: T0 + 2 }));
    const error = await service
      .save(who, makeState({ timestamp: T0 + 3 }), { ifMatch: 1 })
      .catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(StaleRevisionError);
    expect(error).toMatchObject({ expected: 1, current: 2 });
  });

  it('throws StateConflictError carrying the stored, newer state', async () => {
    const who = owner();
    const newer = makeState({ timestamp: T0 + 2000 });
    await service.save(who, newer);
    const error = await service
      .save(who, makeState({ timestamp: T0 + 1000 }))
      .catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(StateConflictError);
    expect((error as StateConflictError).current).toMatchObject({ state: newer, revision: 1 });
  });
});

describe('StatePersistenceService.load and delete', () => {
  it('returns null for a user with nothing stored', async () => {
    expect(await service.load(owner())).toBeNull();
    expect(await service.loadJson(owner())).toBeNull();
  });

  it('returns the stored state with its revision and savedAt', async () => {
    const who = owner();
    const state = makeState({ activities: 3 });
    const { revision, savedAt, epoch } = await service.save(who, state);
    expect(await service.load(who)).toEqual({ state, revision, savedAt });
    const json = await service.loadJson(who);
    expect(JSON.parse(json?.json ?? '')).toEqual({ state, revision, savedAt, epoch });
    expect(json?.epoch).toBe(epoch);
    expect(await service.revision(who)).toBe(revision);
  });

  it('removes the state on delete and reports whether there was one', async () => {
    const who = owner();
    await service.save(who, makeState());
    expect(await service.delete(who)).toMatchObject({ deleted: true, revision: 2 });
    expect(await service.load(who)).toBeNull();
    expect(await service.delete(who)).toMatchObject({ deleted: false, revision: 2 });
  });

  it('migrates a stored state whose version is unknown to the store', async () => {
    const who = owner();
    const scope = stateScope(who.workspaceId, who.userId);
    const state = makeState();
    // Written by something that did not record `version` beside the state.
    await client.hset(scope.stateKey, { state: JSON.stringify(state), revision: 4, savedAt: 9 });
    expect(await service.load(who)).toEqual({ state, revision: 4, savedAt: 9 });
    // Written before counters had an epoch: the epoch is '' (unknown).
    expect(JSON.parse((await service.loadJson(who))?.json ?? '')).toEqual({
      state,
      revision: 4,
      savedAt: 9,
      epoch: '',
    });
  });

  it('replaces a newer stored state that cannot be read instead of refusing the save', async () => {
    const who = owner();
    const scope = stateScope(who.workspaceId, who.userId);
    const future = Date.now() + 60_000;
    // A state from a version this server cannot migrate, stamped later than any save below.
    await client.set(
      scope.stateKey,
      `{"type":"state","revision":6,"savedAt":1,"timestamp":${future},"origin":"x","state":{"version":99,"timestamp":${future}}}`,
    );
    expect(await service.load(who)).toBeNull();
    const state = makeState({ timestamp: Date.now() });
    expect(await service.save(who, state)).toMatchObject({ revision: 7 });
    expect(await service.load(who)).toMatchObject({ state, revision: 7 });
  });

  it('still refuses an If-Match that no longer holds when replacing an unreadable state', async () => {
    const who = owner();
    const scope = stateScope(who.workspaceId, who.userId);
    const future = Date.now() + 60_000;
    await client.set(
      scope.stateKey,
      `{"type":"state","revision":3,"savedAt":1,"timestamp":${future},"origin":"x","state":{"version":99}}`,
    );
    await expect(service.save(who, makeState(), { ifMatch: 2 })).rejects.toMatchObject({
      name: 'StaleRevisionError',
    });
    expect(await service.save(who, makeState(), { ifMatch: 3 })).toMatchObject({ revision: 4 });
  });

  it('treats a stored state that cannot be read or migrated as absent', async () => {
    const who = owner();
    const scope = stateScope(who.workspaceId, who.userId);
    await client.hset(scope.stateKey, {
      state: '{"version":99}',
      revision: 1,
      savedAt: 1,
      version: 99,
    });
    expect(await service.load(who)).toBeNull();
    await client.hset(scope.stateKey, { state: 'not json', version: 0 });
    expect(await service.loadJson(who)).toBeNull();
  });
});

describe('StatePersistenceService.subscribe and unsubscribe', () => {
  it('stops one listener with unsubscribe(owner, listener) and the rest with unsubscribe(owner)', async () => {
    const who = owner();
    const first: ChannelMessage[] = [];
    const second: ChannelMessage[] = [];
    const onFirst = (message: ChannelMessage) => first.push(message);
    const onSecond = (message: ChannelMessage) => second.push(message);
    await service.subscribe(who, onFirst);
    await service.subscribe(who, onSecond);
    await service.save(who, makeState({ timestamp: T0 + 1 }));
    await waitFor(() => first.length === 1 && second.length === 1);
    await service.unsubscribe(who, onFirst);
    await service.save(who, makeState({ timestamp: T0 + 2 }));
    await waitFor(() => second.length === 2);
    await service.unsubscribe(who);
    await service.unsubscribe(who);
    await service.save(who, makeState({ timestamp: T0 + 3 }));
    await service.save(who, makeState({ timestamp: T0 + 4 }));
    // A listener still attached would have heard these by the time a new one hears the next.
    const late: ChannelMessage[] = [];
    const probe = await service.subscribe(who, (message) => late.push(message));
    await service.save(who, makeState({ timestamp: T0 + 5 }));
    await waitFor(() => late.length === 1);
    expect(first).toHaveLength(1);
    expect(second).toHaveLength(2);
    await probe.unsubscribe();
  });

  it('receives deletes as { type: "deleted", revision }', async () => {
    const who = owner();
    await service.save(who, makeState());
    const received: ChannelMessage[] = [];
    const subscription = await service.subscribe(who, (message) => received.push(message));
    expect(subscription.revision).toBe(1);
    await service.delete(who, { origin: 'admin' });
    await waitFor(() => received.length === 1);
    expect(received[0]).toEqual({ type: 'deleted', revision: 2, origin: 'admin' });
    await subscription.unsubscribe();
  });
});

describe('StatePersistenceService options', () => {
  it('refuses a TTL that is not a positive whole number of seconds', () => {
    expect(
      () => new StatePersistenceService({ store: new MemoryStateStore(), ttlSeconds: 0 }),
    ).toThrow(new OptionError('ttlSeconds', 'must be a positive integer up to 31536000 (got 0)'));
  });

  it('uses the injected clock for savedAt and the default origin', async () => {
    const memory = new StatePersistenceService({
      store: new MemoryStateStore(),
      now: () => 1234,
      defaultOrigin: 'agent-7',
      maxStateBytes: 100_000,
    });
    const who = owner();
    const received: ChannelMessage[] = [];
    await memory.subscribe(who, (message) => received.push(message));
    // A state stamped by a clock in step with the injected one (not ahead of it).
    const state = makeState({ timestamp: 1000, activities: 1, alerts: 1 });
    expect(await memory.save(who, state)).toEqual({
      revision: 1,
      savedAt: 1234,
      epoch: expect.any(String),
    });
    await waitFor(() => received.length === 1);
    expect(received[0]).toMatchObject({ origin: 'agent-7', savedAt: 1234 });
    expect(memory.storeKind).toBe('memory');
    expect(memory.maxStateBytes).toBe(100_000);
    expect(STATE_VERSION).toBe(1);
    await memory.close();
    await expect(memory.save(who, state)).rejects.toBeInstanceOf(StoreUnavailableError);
  });
});
