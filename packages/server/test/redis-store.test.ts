// What only the Redis store does: the documented key layout and TTLs, one SUBSCRIBE per
// channel, the script cache, failing fast while Redis is away, and catching up after a
// subscriber reconnect.
import { Redis } from 'ioredis';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { startTestRedis, type TestRedis } from '../../../test-support/redis-server.js';
import type { ChannelEvent } from '../src/channel/channel-event.js';
import {
  type RedisStateStore,
  type SaveRequest,
  type StateScope,
  StoreUnavailableError,
  stateScope,
} from '../src/index.js';
import { redisStores } from './support/redis-stores.js';
import { waitFor } from './support/wait-for.js';

let redis: TestRedis;
let client: Redis;
const stores = redisStores();

beforeAll(async () => {
  redis = await startTestRedis();
  client = new Redis(redis.url, { lazyConnect: true, maxRetriesPerRequest: 1 });
  client.on('error', () => {});
  await client.connect();
});
afterEach(() => stores.closeAll());
afterAll(async () => {
  client.disconnect();
  await redis.close();
});

function openStore(name = 'redis-test'): Promise<RedisStateStore> {
  return stores.open(redis.url, { connectionName: name });
}

let counter = 0;
function scope(): StateScope {
  counter += 1;
  return stateScope('acme', `redis-user-${counter}`);
}

function save(overrides: Partial<SaveRequest> = {}): SaveRequest {
  const timestamp = overrides.timestamp ?? Date.now();
  return {
    stateJson: JSON.stringify({ version: 1, timestamp }),
    timestamp,
    version: 1,
    savedAt: 1_700_000_000_123,
    origin: 'tab-9',
    ttlSeconds: 120,
    ...overrides,
  };
}

describe('Redis layout', () => {
  it('stores the published state message under dashboard:state:{workspaceId:userId} with the TTL', async () => {
    const store = await openStore();
    const user = scope();
    const request = save({ timestamp: 42 });
    await store.save(user, request);
    expect(user.stateKey).toBe(`dashboard:state:{acme:${user.userId}}`);
    expect(await client.type(user.stateKey)).toBe('string');
    expect(JSON.parse((await client.get(user.stateKey)) ?? '')).toEqual({
      type: 'state',
      revision: 1,
      savedAt: request.savedAt,
      timestamp: 42,
      origin: 'tab-9',
      state: JSON.parse(request.stateJson),
    });
    const ttl = await client.ttl(user.stateKey);
    expect(ttl).toBeGreaterThan(110);
    expect(ttl).toBeLessThanOrEqual(120);
  });

  it('keeps the revision counter with its epoch in its own key, for twice the TTL, across saves and a delete', async () => {
    const store = await openStore();
    const user = scope();
    const saved = await store.save(user, save({ ttlSeconds: 300 }));
    const epoch = saved.status === 'saved' ? saved.epoch : '';
    expect(epoch).toMatch(/^\d{16}$/); // Redis TIME: seconds and microseconds
    expect(await client.get(user.revisionKey)).toBe(`1:${epoch}`);
    expect(await client.ttl(user.revisionKey)).toBeGreaterThan(590);
    await store.delete(user, { ttlSeconds: 300 });
    expect(await client.exists(user.stateKey)).toBe(0);
    expect(user.revisionKey).toBe(`dashboard:state:revision:{acme:${user.userId}}`);
    expect(await client.get(user.revisionKey)).toBe(`2:${epoch}`);
    expect(await client.ttl(user.revisionKey)).toBeGreaterThan(590);
  });

  it('reads a counter written before epochs (a bare revision) and gives it an epoch on the next save', async () => {
    const store = await openStore();
    const user = scope();
    await client.set(user.revisionKey, '7');
    expect(await store.head(user)).toEqual({ revision: 7, epoch: '' });
    const saved = await store.save(user, save());
    expect(saved).toMatchObject({ status: 'saved', revision: 8 });
    expect(await client.get(user.revisionKey)).toBe(
      `8:${saved.status === 'saved' ? saved.epoch : ''}`,
    );
  });

  it('publishes the documented message on dashboard:state:channel:{workspaceId:userId}', async () => {
    const store = await openStore();
    const user = scope();
    const listener = client.duplicate();
    listener.on('error', () => {});
    const received: string[] = [];
    listener.on('message', (_channel: string, message: string) => received.push(message));
    await listener.subscribe(`dashboard:state:channel:{acme:${user.userId}}`);
    try {
      const request = save({ timestamp: 7 });
      await store.save(user, request);
      await store.delete(user, { ttlSeconds: 60, origin: 'cli' });
      await waitFor(() => received.length === 2);
      expect(JSON.parse(received[0] ?? '')).toEqual({
        type: 'state',
        state: { version: 1, timestamp: 7 },
        revision: 1,
        savedAt: request.savedAt,
        timestamp: 7,
        origin: 'tab-9',
      });
      expect(JSON.parse(received[1] ?? '')).toEqual({
        type: 'deleted',
        revision: 2,
        origin: 'cli',
      });
    } finally {
      listener.disconnect();
    }
  });

  it('names its connections so operators (and tests) can find them', async () => {
    await openStore('named-instance');
    const list = await client.client('LIST');
    expect(String(list)).toContain('name=named-instance:cmd');
    expect(String(list)).toContain('name=named-instance:sub');
  });
});

describe('Redis subscriptions', () => {
  async function subscribers(channel: string): Promise<number> {
    const reply = await client.pubsub('NUMSUB', channel);
    return Number(Array.isArray(reply) ? reply[1] : 0);
  }

  it('holds one SUBSCRIBE per channel however many listeners, and drops it with the last', async () => {
    const store = await openStore();
    const user = scope();
    const subscriptions = await Promise.all([1, 2, 3].map(() => store.subscribe(user, () => {})));
    expect(await subscribers(user.channel)).toBe(1);
    await subscriptions[0]?.unsubscribe();
    await subscriptions[1]?.unsubscribe();
    expect(await subscribers(user.channel)).toBe(1);
    await subscriptions[2]?.unsubscribe();
    await waitFor(async () => (await subscribers(user.channel)) === 0);
  });

  it('delivers messages other publishers put on the channel in the documented shape', async () => {
    const store = await openStore();
    const user = scope();
    const events: ChannelEvent[] = [];
    await store.subscribe(user, (event) => events.push(event));
    await client.publish(user.channel, 'not json');
    await client.publish(user.channel, JSON.stringify({ type: 'unknown' }));
    await client.publish(user.channel, JSON.stringify({ revision: 5, type: 'deleted' }));
    await waitFor(() => events.length === 1);
    expect(events[0]?.type).toBe('deleted');
    expect(events[0]?.revision).toBe(5);
    expect(events[0]?.message()).toEqual({ type: 'deleted', revision: 5 });
  });

  it('ignores a message that is not newer than what listeners already have', async () => {
    const store = await openStore();
    const user = scope();
    const events: ChannelEvent[] = [];
    await store.save(user, save({ timestamp: 1 }));
    await store.subscribe(user, (event) => events.push(event));
    await client.publish(user.channel, '{"type":"deleted","revision":1}');
    await store.save(user, save({ timestamp: 2 }));
    await waitFor(() => events.length === 1);
    expect(events.map((event) => event.revision)).toEqual([2]);
  });

  it('pushes the change a subscriber missed while its connection was cut', async () => {
    const store = await openStore('cut-subscriber');
    const writer = await openStore('writer');
    const user = scope();
    const events: ChannelEvent[] = [];
    await store.subscribe(user, (event) => events.push(event));
    await client.call('CLIENT', 'KILL', 'TYPE', 'pubsub', 'SKIPME', 'yes');
    await writer.save(user, save({ timestamp: 10 }));
    await waitFor(() => events.some((event) => event.revision === 1), {
      what: 'the missed change to be pushed',
    });
    await writer.delete(user, { ttlSeconds: 60 });
    await waitFor(() => events.some((event) => event.type === 'deleted' && event.revision === 2));
  });

  it('announces a delete that happened while the subscriber was cut', async () => {
    const store = await openStore('cut-before-delete');
    const writer = await openStore('writer-2');
    const user = scope();
    await writer.save(user, save({ timestamp: 10 }));
    const events: ChannelEvent[] = [];
    const subscription = await store.subscribe(user, (event) => events.push(event));
    expect(subscription.revision).toBe(1);
    await client.call('CLIENT', 'KILL', 'TYPE', 'pubsub', 'SKIPME', 'yes');
    await writer.delete(user, { ttlSeconds: 60 });
    await waitFor(() => events.some((event) => event.type === 'deleted' && event.revision === 2));
  });
});

describe('Redis faults', () => {
  it('reloads its Lua scripts when the script cache was flushed', async () => {
    const store = await openStore();
    const user = scope();
    await client.script('FLUSH');
    expect((await store.save(user, save())).status).toBe('saved');
    await client.script('FLUSH');
    expect((await store.delete(user, { ttlSeconds: 60 })).deleted).toBe(true);
  });

  it('fails fast with StoreUnavailableError while Redis is down, and recovers after', async () => {
    const store = await openStore('fault-store');
    const user = scope();
    await redis.stop();
    try {
      const started = Date.now();
      await expect(store.save(user, save())).rejects.toBeInstanceOf(StoreUnavailableError);
      await expect(store.load(user)).rejects.toBeInstanceOf(StoreUnavailableError);
      await expect(store.subscribe(user, () => {})).rejects.toBeInstanceOf(StoreUnavailableError);
      expect(Date.now() - started).toBeLessThan(1000);
      expect(await store.ready()).toBe(false);
    } finally {
      await redis.start();
    }
    await waitFor(() => store.ready(), { timeoutMs: 8000, what: 'the store to reconnect' });
    expect((await store.save(user, save())).status).toBe('saved');
  });

  it('resets a channel when Redis comes back empty, so new saves reach listeners again', async () => {
    const store = await openStore('restart-store');
    const user = scope();
    const events: ChannelEvent[] = [];
    await store.subscribe(user, (event) => events.push(event));
    await store.save(user, save({ timestamp: 1 }));
    await store.save(user, save({ timestamp: 2 }));
    await waitFor(() => events.length === 2);
    await redis.stop();
    await redis.start();
    await waitFor(() => store.ready(), { timeoutMs: 8000, what: 'the store to reconnect' });
    // Redis lost everything: the counter starts again at 1, and listeners still hear it.
    await waitFor(async () => (await store.save(user, save({ timestamp: 3 }))).status === 'saved', {
      timeoutMs: 8000,
    });
    await waitFor(
      () => events.some((event) => event.revision === 1 && events.indexOf(event) >= 2),
      {
        what: 'the first save after the restart to be delivered',
      },
    );
  });
});
