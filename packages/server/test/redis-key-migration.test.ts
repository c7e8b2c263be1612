// Names moved to hash-tagged ones (`dashboard:state:{acme:alice}`) so a user's keys share
// one cluster slot. Data written by earlier versions under the untagged names
// (`dashboard:state:acme:alice`), in both layouts those versions wrote (a stored message
// string, and the older hash), must still be read, and the next save or delete moves the
// user to the new names without losing a revision or bringing deleted data back.
import { describe, expect, it } from 'vitest';
import type { ChannelEvent } from '../src/channel/channel-event.js';
import { stateMessageText } from '../src/channel/channel-event.js';
import { type RedisStateStore, type StateScope, stateScope } from '../src/index.js';
import { parseStoredMessage } from '../src/store/redis/stored-message.js';
import type { ChannelHead } from '../src/store/state-store.js';
import { saveRequest, setUpStoreRedis } from './support/store-redis.js';
import { waitFor } from './support/wait-for.js';

const db = setUpStoreRedis('moved-user');
const scope = db.scope;
const save = saveRequest;

/** Redis TIME as the scripts write it: seconds and microseconds. */
const EPOCH = /^\d{16}$/;

/** What version 0.2 wrote: the published message, under the untagged name. */
async function writeOldMessage(user: StateScope, timestamp: number, revision: number) {
  const text = stateMessageText(
    JSON.stringify({ version: 1, timestamp }),
    revision,
    5,
    'old',
    timestamp,
  );
  await db.client.set(user.legacyStateKey, text, 'EX', 600);
}

/** What version 0.1 wrote: a hash, under the untagged name. */
function writeOldHash(user: StateScope, timestamp: number, revision: number): Promise<void> {
  return db.writeHashLayout(user.legacyStateKey, timestamp, revision);
}

/** Subscribes to `user`'s channel, recording what it delivers and the resets it asks for. */
async function recordChannel(store: RedisStateStore, user: StateScope) {
  const events: ChannelEvent[] = [];
  const resets: ChannelHead[] = [];
  const subscription = await store.subscribe(
    user,
    (event) => events.push(event),
    (head) => resets.push(head),
  );
  return { events, resets, subscription };
}

const layouts = [
  ['a stored message', writeOldMessage],
  ['a hash', writeOldHash],
] as const;

describe('the names', () => {
  it('carry one hash tag per user, the untagged names of before kept for reading', () => {
    const user = stateScope('acme', 'alice');
    expect(user).toMatchObject({
      stateKey: 'dashboard:state:{acme:alice}',
      revisionKey: 'dashboard:state:revision:{acme:alice}',
      channel: 'dashboard:state:channel:{acme:alice}',
      legacyStateKey: 'dashboard:state:acme:alice',
      legacyRevisionKey: 'dashboard:state:revision:acme:alice',
    });
  });
});

describe.each(layouts)('a state stored under the old name as %s', (_layout, writeOld) => {
  it('is loaded, and its revision is the current one, also for a new subscription', async () => {
    const store = await db.openStore();
    const user = scope();
    await writeOld(user, 70, 7);
    expect(await store.load(user)).toEqual({
      stateJson: '{"version":1,"timestamp":70}',
      revision: 7,
      savedAt: 5,
      version: 1,
      origin: 'old',
      epoch: '', // no counter under either name: a state of before counters on every save
    });
    expect(await store.revision(user)).toBe(7);
    const subscription = await store.subscribe(user, () => {});
    expect(subscription.revision).toBe(7);
    await subscription.unsubscribe();
  });

  it('is moved by the next save: revisions count on, the old key is gone', async () => {
    const store = await db.openStore();
    const user = scope();
    await writeOld(user, 70, 7);
    const events: ChannelEvent[] = [];
    const subscription = await store.subscribe(user, (event) => events.push(event));
    expect(await store.save(user, save(80, { ifMatch: 7 }))).toMatchObject({
      status: 'saved',
      revision: 8,
    });
    expect(await db.client.exists(user.legacyStateKey, user.legacyRevisionKey)).toBe(0);
    expect(parseStoredMessage((await db.client.get(user.stateKey)) ?? '')).toMatchObject({
      revision: 8,
      origin: 'new',
    });
    expect(await store.load(user)).toMatchObject({ revision: 8, origin: 'new' });
    await waitFor(() => events.length === 1, { what: 'the save on the new channel' });
    expect(events[0]?.revision).toBe(8);
    await subscription.unsubscribe();
  });

  it('still wins over an older save and answers a stale If-Match, both left in place', async () => {
    const store = await db.openStore();
    const user = scope();
    await writeOld(user, 70, 7);
    expect(await store.save(user, save(60))).toMatchObject({
      status: 'conflict',
      current: { revision: 7, origin: 'old', stateJson: '{"version":1,"timestamp":70}' },
    });
    expect(await store.save(user, save(90, { ifMatch: 3 }))).toEqual({
      status: 'stale',
      revision: 7,
      epoch: '',
    });
    expect(await db.client.exists(user.legacyStateKey)).toBe(1);
    expect(await db.client.exists(user.stateKey)).toBe(0);
  });

  it('is deleted for good: the old key goes too, and the revision counts on', async () => {
    const store = await db.openStore();
    const user = scope();
    await writeOld(user, 70, 7);
    const deleted = await store.delete(user, { ttlSeconds: 60 });
    expect(deleted).toEqual({ deleted: true, revision: 8, epoch: expect.stringMatching(EPOCH) });
    expect(await db.client.exists(user.legacyStateKey)).toBe(0);
    expect(await db.client.get(user.revisionKey)).toBe(`8:${deleted.epoch}`);
    expect(await store.load(user)).toBeNull();
    expect(await store.revision(user)).toBe(8);
    expect(await store.save(user, save(10))).toMatchObject({ status: 'saved', revision: 9 });
  });
});

describe('an old revision counter (a state deleted before the move)', () => {
  it('gives the revision, and the next save counts on from it and removes it', async () => {
    const store = await db.openStore();
    const user = scope();
    await db.client.set(user.legacyRevisionKey, '12', 'EX', 600);
    expect(await store.load(user)).toBeNull();
    expect(await store.revision(user)).toBe(12);
    expect(await store.delete(user, { ttlSeconds: 60 })).toEqual({
      deleted: false,
      revision: 12,
      epoch: '',
    });
    expect(await store.save(user, save(10))).toMatchObject({ status: 'saved', revision: 13 });
    expect(await db.client.exists(user.legacyRevisionKey)).toBe(0);
  });
});

describe('an old counter under the new counter format', () => {
  it('a bare revision (before epochs) continues under a new epoch; a socket that knew none is not reset', async () => {
    const store = await db.openStore();
    const user = scope();
    await db.client.set(user.legacyRevisionKey, '12', 'EX', 600);
    expect(await store.head(user)).toEqual({ revision: 12, epoch: '' });
    const { events, resets, subscription } = await recordChannel(store, user);
    expect(subscription).toMatchObject({ revision: 12, epoch: '' });
    // An If-Match naming an epoch never matches a counter that has none.
    expect(
      await store.save(user, save(10, { ifMatch: 12, ifMatchEpoch: '1690000000123456' })),
    ).toEqual({ status: 'stale', revision: 12, epoch: '' });
    const saved = await store.save(user, save(10, { ifMatch: 12 }));
    expect(saved).toMatchObject({ status: 'saved', revision: 13 });
    const epoch = saved.status === 'saved' ? saved.epoch : '';
    expect(epoch).toMatch(EPOCH);
    expect(await db.client.get(user.revisionKey)).toBe(`13:${epoch}`);
    expect(await db.client.ttl(user.revisionKey)).toBeGreaterThan(200); // twice the 120 s TTL
    expect(await db.client.exists(user.legacyRevisionKey)).toBe(0);
    expect(await store.head(user)).toEqual({ revision: 13, epoch });
    await waitFor(() => events.length === 1, { what: 'the save on the new channel' });
    expect(events[0]?.revision).toBe(13);
    expect(resets).toEqual([]);
    await subscription.unsubscribe();
  });

  it('one with an epoch (the version before the hash tag) keeps it: ETags and sockets stay valid', async () => {
    const store = await db.openStore();
    const user = scope();
    const oldEpoch = '1690000000123456';
    await writeOldMessage(user, 70, 12);
    await db.client.set(user.legacyRevisionKey, `12:${oldEpoch}`, 'EX', 600);
    expect(await store.load(user)).toMatchObject({ revision: 12, epoch: oldEpoch });
    const { events, resets, subscription } = await recordChannel(store, user);
    expect(subscription).toMatchObject({ revision: 12, epoch: oldEpoch });
    expect(
      await store.save(user, save(80, { ifMatch: 12, ifMatchEpoch: '1700000000000000' })),
    ).toEqual({ status: 'stale', revision: 12, epoch: oldEpoch });
    expect(await store.save(user, save(80, { ifMatch: 12, ifMatchEpoch: oldEpoch }))).toEqual({
      status: 'saved',
      revision: 13,
      savedAt: 1_700_000_000_080,
      epoch: oldEpoch,
    });
    expect(await db.client.get(user.revisionKey)).toBe(`13:${oldEpoch}`);
    expect(await db.client.exists(user.legacyStateKey, user.legacyRevisionKey)).toBe(0);
    await waitFor(() => events.length === 1, { what: 'the save on the new channel' });
    expect(events[0]?.revision).toBe(13);
    expect(resets).toEqual([]);
    expect(await store.delete(user, { ttlSeconds: 60 })).toEqual({
      deleted: true,
      revision: 14,
      epoch: oldEpoch,
    });
    await subscription.unsubscribe();
  });

  it('a delete from the old names continues the old counter and its epoch too', async () => {
    const store = await db.openStore();
    const user = scope();
    await writeOldHash(user, 70, 7);
    await db.client.set(user.legacyRevisionKey, '9:1690000000123456', 'EX', 600);
    expect(await store.delete(user, { ttlSeconds: 60 })).toEqual({
      deleted: true,
      revision: 10,
      epoch: '1690000000123456',
    });
    expect(await db.client.exists(user.legacyStateKey, user.legacyRevisionKey)).toBe(0);
    expect(await db.client.get(user.revisionKey)).toBe('10:1690000000123456');
    expect(await db.client.ttl(user.revisionKey)).toBeGreaterThan(100); // twice the 60 s TTL
  });
});

describe('data under both names', () => {
  it('reads the new name only: the old value is what a move left behind', async () => {
    const store = await db.openStore();
    const user = scope();
    await store.save(user, save(100));
    await writeOldMessage(user, 500, 40);
    expect(await store.load(user)).toMatchObject({ revision: 1, origin: 'new' });
    expect(await store.save(user, save(200))).toMatchObject({ status: 'saved', revision: 2 });
  });
});
