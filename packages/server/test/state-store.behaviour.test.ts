// One behavioural suite, run against both StateStore implementations: whatever the
// service relies on must hold for the embedded memory store and for Redis alike, on one
// Redis and on a Redis Cluster (3 primaries, started once for the file) with sharded and
// with classic pub/sub.

import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import {
  startTestRedisCluster,
  type TestRedisCluster,
} from '../../../test-support/redis-cluster.js';
import { startTestRedis, type TestRedis } from '../../../test-support/redis-server.js';
import type { ChannelEvent } from '../src/channel/channel-event.js';
import {
  MemoryStateStore,
  RedisStateStore,
  type SaveRequest,
  type StateScope,
  type StateStore,
  StoreUnavailableError,
  stateScope,
} from '../src/index.js';
import { waitFor } from './support/wait-for.js';

let redis: TestRedis;
let cluster: TestRedisCluster;
beforeAll(async () => {
  [redis, cluster] = await Promise.all([startTestRedis(), startTestRedisCluster()]);
}, 60_000);
afterAll(async () => {
  await Promise.all([redis.close(), cluster.close()]);
});

const factories: Array<[string, () => StateStore]> = [
  ['memory', () => new MemoryStateStore()],
  ['redis', () => new RedisStateStore({ url: redis.url, connectionName: 'behaviour' })],
  [
    'redis-cluster (sharded pub/sub)',
    () =>
      new RedisStateStore({
        cluster: { nodes: cluster.seeds, pubsub: 'sharded' },
        connectionName: 'behaviour-sharded',
      }),
  ],
  [
    'redis-cluster (classic pub/sub)',
    () =>
      new RedisStateStore({
        cluster: { nodes: cluster.seeds, pubsub: 'classic' },
        connectionName: 'behaviour-classic',
      }),
  ],
];

let userCounter = 0;
function freshScope(): StateScope {
  userCounter += 1;
  return stateScope('ws-behaviour', `user-${userCounter}-${Date.now()}`);
}

function request(overrides: Partial<SaveRequest> = {}): SaveRequest {
  const timestamp = overrides.timestamp ?? Date.now();
  return {
    stateJson: JSON.stringify({ version: 1, timestamp, marker: overrides.origin ?? 'x' }),
    timestamp,
    version: 1,
    savedAt: Date.now(),
    origin: 'test',
    ttlSeconds: 60,
    ...overrides,
  };
}

describe.each(factories)('%s state store', (_kind, create) => {
  let store: StateStore;
  beforeAll(async () => {
    store = create();
    if (store instanceof RedisStateStore) expect(await store.waitUntilReady(5000)).toBe(true);
  });
  afterAll(() => store.close());

  const opened: Array<() => Promise<void>> = [];
  afterEach(async () => {
    await Promise.all(opened.splice(0).map((close) => close()));
  });

  async function listen(scope: StateScope): Promise<{ events: ChannelEvent[]; revision: number }> {
    const events: ChannelEvent[] = [];
    const subscription = await store.subscribe(scope, (event) => events.push(event));
    opened.push(() => subscription.unsubscribe());
    return { events, revision: subscription.revision };
  }

  it('loads null and revision 0 for a user who never saved', async () => {
    const scope = freshScope();
    expect(await store.load(scope)).toBeNull();
    expect(await store.revision(scope)).toBe(0);
  });

  it('stores the JSON text as given and hands out revision 1 first', async () => {
    const scope = freshScope();
    const save = request({ origin: 'engine-a' });
    const outcome = await store.save(scope, save);
    expect(outcome).toEqual({
      status: 'saved',
      revision: 1,
      savedAt: save.savedAt,
      epoch: expect.stringMatching(/^[A-Za-z0-9_-]{1,64}$/),
    });
    expect(await store.load(scope)).toEqual({
      stateJson: save.stateJson,
      revision: 1,
      savedAt: save.savedAt,
      version: 1,
      origin: 'engine-a',
      epoch: outcome.status === 'saved' ? outcome.epoch : '',
    });
  });

  it('keeps one epoch for a user across saves and deletes, and a different one per user', async () => {
    const scope = freshScope();
    const epochs = new Set<string>();
    for (let i = 0; i < 3; i++) {
      const outcome = await store.save(scope, request({ timestamp: 1000 + i }));
      if (outcome.status === 'saved') epochs.add(outcome.epoch);
    }
    epochs.add((await store.delete(scope, { ttlSeconds: 60 })).epoch);
    expect(epochs.size).toBe(1);
    const other = await store.save(freshScope(), request());
    expect(other.status === 'saved' && epochs.has(other.epoch)).toBe(false);
  });

  it('bumps the revision by one on every save', async () => {
    const scope = freshScope();
    const revisions: number[] = [];
    for (let i = 0; i < 5; i++) {
      const outcome = await store.save(scope, request({ timestamp: 1000 + i }));
      if (outcome.status === 'saved') revisions.push(outcome.revision);
    }
    expect(revisions).toEqual([1, 2, 3, 4, 5]);
    expect(await store.revision(scope)).toBe(5);
  });

  it('refuses a save whose If-Match revision is stale and reports the current one', async () => {
    const scope = freshScope();
    await store.save(scope, request({ timestamp: 1 }));
    await store.save(scope, request({ timestamp: 2 }));
    expect(await store.save(scope, request({ timestamp: 3, ifMatch: 1 }))).toEqual({
      status: 'stale',
      revision: 2,
      epoch: (await store.load(scope))?.epoch,
    });
    expect((await store.load(scope))?.revision).toBe(2);
  });

  it("refuses an If-Match whose epoch is not the counter's, even with the current revision", async () => {
    const scope = freshScope();
    const first = await store.save(scope, request({ timestamp: 1 }));
    const epoch = first.status === 'saved' ? first.epoch : '';
    const other = await store.save(
      scope,
      request({ timestamp: 2, ifMatch: 1, ifMatchEpoch: 'another-epoch' }),
    );
    expect(other).toEqual({ status: 'stale', revision: 1, epoch });
    const same = await store.save(
      scope,
      request({ timestamp: 3, ifMatch: 1, ifMatchEpoch: epoch }),
    );
    expect(same).toMatchObject({ status: 'saved', revision: 2, epoch });
  });

  it('accepts a save whose If-Match names the current revision (0 when nothing is stored)', async () => {
    const scope = freshScope();
    expect((await store.save(scope, request({ timestamp: 1, ifMatch: 0 }))).status).toBe('saved');
    expect(await store.save(scope, request({ timestamp: 2, ifMatch: 1 }))).toMatchObject({
      status: 'saved',
      revision: 2,
    });
  });

  it('keeps the newer state when an older one arrives, and returns the winner', async () => {
    const scope = freshScope();
    const newer = request({ timestamp: 2000, origin: 'newer' });
    await store.save(scope, newer);
    const outcome = await store.save(scope, request({ timestamp: 1000, origin: 'older' }));
    expect(outcome).toEqual({
      status: 'conflict',
      current: {
        stateJson: newer.stateJson,
        revision: 1,
        savedAt: newer.savedAt,
        version: 1,
        origin: 'newer',
      },
    });
    expect((await store.load(scope))?.stateJson).toBe(newer.stateJson);
  });

  it('accepts a state with the same timestamp as the stored one', async () => {
    const scope = freshScope();
    await store.save(scope, request({ timestamp: 5000 }));
    expect((await store.save(scope, request({ timestamp: 5000 }))).status).toBe('saved');
  });

  it('removes the state on delete and keeps counting revisions after it', async () => {
    const scope = freshScope();
    await store.save(scope, request({ timestamp: 1 }));
    expect(await store.delete(scope, { ttlSeconds: 60 })).toMatchObject({
      deleted: true,
      revision: 2,
    });
    expect(await store.load(scope)).toBeNull();
    expect(await store.revision(scope)).toBe(2);
    // An older timestamp is fine now: nothing is stored to be newer than it.
    expect(await store.save(scope, request({ timestamp: 0 }))).toMatchObject({ revision: 3 });
  });

  it('reports a delete of nothing without bumping or publishing', async () => {
    const scope = freshScope();
    const { events } = await listen(scope);
    expect(await store.delete(scope, { ttlSeconds: 60 })).toEqual({
      deleted: false,
      revision: 0,
      epoch: '',
    });
    await store.save(scope, request());
    await waitFor(() => events.length === 1);
    expect(events.map((event) => event.type)).toEqual(['state']);
  });

  it('forgets a state once its TTL has passed, but not its revision: the next save counts on', async () => {
    const scope = freshScope();
    const { events } = await listen(scope);
    // The counter lives twice the state's TTL: 2 s leaves the check of the revision a
    // 2 s window after the expiry (1 s was missed once beside a CPU burner).
    const first = await store.save(scope, request({ ttlSeconds: 2, timestamp: 1 }));
    expect(await store.load(scope)).not.toBeNull();
    await waitFor(async () => (await store.load(scope)) === null, {
      timeoutMs: 8000,
      intervalMs: 50,
      what: 'the state to expire',
    });
    expect(await store.revision(scope)).toBe(1);
    const next = await store.save(scope, request({ ttlSeconds: 1, timestamp: 0 }));
    expect(next).toMatchObject({ status: 'saved', revision: 2 });
    expect(next.status === 'saved' && first.status === 'saved' && next.epoch === first.epoch).toBe(
      true,
    );
    // The open listener hears the save after the expiry (it is newer than what it had).
    await waitFor(() => events.length === 2, { what: 'the save after expiry' });
    expect(events.map((event) => event.revision)).toEqual([1, 2]);
  });

  it('publishes every save and delete to the user channel as a ready-to-send message', async () => {
    const scope = freshScope();
    const { events, revision } = await listen(scope);
    expect(revision).toBe(0);
    const save = request({ origin: 'tab-1' });
    await store.save(scope, save);
    await store.delete(scope, { ttlSeconds: 60, origin: 'tab-2' });
    await waitFor(() => events.length === 2, { what: 'two channel events' });
    const [saved, deleted] = events;
    expect(saved?.type).toBe('state');
    expect(JSON.parse(saved?.raw ?? '')).toEqual({
      type: 'state',
      revision: 1,
      savedAt: save.savedAt,
      timestamp: save.timestamp,
      origin: 'tab-1',
      state: JSON.parse(save.stateJson),
    });
    expect(saved?.message()).toEqual(JSON.parse(saved?.raw ?? ''));
    expect(saved?.bytes().toString('utf8')).toBe(saved?.raw);
    expect(JSON.parse(deleted?.raw ?? '')).toEqual({
      type: 'deleted',
      revision: 2,
      origin: 'tab-2',
    });
  });

  it('starts a subscription at the current revision', async () => {
    const scope = freshScope();
    await store.save(scope, request({ timestamp: 1 }));
    await store.save(scope, request({ timestamp: 2 }));
    expect((await listen(scope)).revision).toBe(2);
  });

  it('shares one channel between listeners and keeps the others when one leaves', async () => {
    const scope = freshScope();
    const first: ChannelEvent[] = [];
    const second: ChannelEvent[] = [];
    const a = await store.subscribe(scope, (event) => first.push(event));
    const b = await store.subscribe(scope, (event) => second.push(event));
    opened.push(() => b.unsubscribe());
    await store.save(scope, request({ timestamp: 1 }));
    await waitFor(() => first.length === 1 && second.length === 1);
    expect(first[0]).toBe(second[0]);
    await a.unsubscribe();
    await a.unsubscribe();
    await store.save(scope, request({ timestamp: 2 }));
    await waitFor(() => second.length === 2);
    expect(first).toHaveLength(1);
  });

  it("never delivers another user's changes", async () => {
    const mine = freshScope();
    const theirs = freshScope();
    const { events } = await listen(mine);
    await store.save(theirs, request());
    await store.save(mine, request());
    await waitFor(() => events.length === 1);
    expect(await store.load(mine)).not.toBeNull();
    expect(events[0]?.revision).toBe(1);
    expect(events).toHaveLength(1);
  });

  it('keeps delivering to other listeners when one throws', async () => {
    const scope = freshScope();
    const bad = await store.subscribe(scope, () => {
      throw new Error('listener bug');
    });
    opened.push(() => bad.unsubscribe());
    const { events } = await listen(scope);
    await store.save(scope, request());
    await waitFor(() => events.length === 1);
  });

  it('answers ready while open, with status up', async () => {
    expect(await store.ready()).toBe(true);
    expect(store.status()).toBe('up');
  });
});

describe.each(factories)('%s state store after close', (_kind, create) => {
  it('is not ready and refuses every operation with StoreUnavailableError', async () => {
    const store = create();
    if (store instanceof RedisStateStore) await store.waitUntilReady(5000);
    await store.close();
    await store.close();
    const scope = stateScope('ws', 'closed-user');
    expect(await store.ready()).toBe(false);
    await expect(store.load(scope)).rejects.toBeInstanceOf(StoreUnavailableError);
    await expect(store.save(scope, request())).rejects.toBeInstanceOf(StoreUnavailableError);
    await expect(store.delete(scope, { ttlSeconds: 1 })).rejects.toBeInstanceOf(
      StoreUnavailableError,
    );
    await expect(store.revision(scope)).rejects.toBeInstanceOf(StoreUnavailableError);
    await expect(store.subscribe(scope, () => {})).rejects.toBeInstanceOf(StoreUnavailableError);
  });
});
