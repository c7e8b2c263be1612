// The Redis value of a state is the message published for its revision, built by the
// server with the revision it expects. These check that a wrong guess still stores and
// publishes the right revision, that values written before this layout (hashes) are
// still read, saved over, conflicted with and deleted, and that a value that is not a
// state message is reported and replaced rather than trusted.
import { describe, expect, it } from 'vitest';
import { stateMessageText } from '../src/channel/channel-event.js';
import type { RedisStateStore, SaveRequest, StateScope } from '../src/index.js';
import type { Logger } from '../src/logger.js';
import { parseStoredMessage } from '../src/store/redis/stored-message.js';
import { saveRequest, setUpStoreRedis } from './support/store-redis.js';
import { waitFor } from './support/wait-for.js';

const db = setUpStoreRedis('stored-user');
const scope = db.scope;

interface Logged {
  level: string;
  message: string;
}

function recordingLogger(into: Logged[]): Logger {
  const at =
    (level: string) =>
    (_context: object, message: string): void => {
      into.push({ level, message });
    };
  return { debug: at('debug'), info: at('info'), warn: at('warn'), error: at('error') };
}

function openStore(logs: Logged[] = []): Promise<RedisStateStore> {
  return db.openStore({ logger: recordingLogger(logs) });
}

function save(timestamp: number, overrides: Partial<SaveRequest> = {}): SaveRequest {
  return saveRequest(timestamp, {
    stateJson: JSON.stringify({ version: 1, timestamp, title: `at ${timestamp}` }),
    origin: 'tab "one"',
    ...overrides,
  });
}

async function stored(user: StateScope): Promise<string> {
  return (await db.client.get(user.stateKey)) ?? '';
}

describe('stored message layout', () => {
  it('stores and publishes the same text, whatever revision the saving instance expected', async () => {
    const first = await openStore();
    const second = await openStore();
    const user = scope();
    const listener = db.client.duplicate();
    const published: string[] = [];
    listener.on('message', (_channel: string, message: string) => published.push(message));
    await listener.subscribe(user.channel);
    try {
      // `first` knows revisions 1-3; `second` saw none of them and expects revision 1.
      for (const timestamp of [10, 20, 30]) await first.save(user, save(timestamp));
      const outcome = await second.save(user, save(40));
      expect(outcome).toMatchObject({ status: 'saved', revision: 4 });
      const request = save(40);
      const expected = stateMessageText(request.stateJson, 4, request.savedAt, request.origin, 40);
      expect(await stored(user)).toBe(expected);
      await waitFor(() => published.length === 4);
      expect(published[3]).toBe(expected);
      // Now `second` knows revision 4 and `first` is one behind: both still count on.
      expect(await first.save(user, save(50))).toMatchObject({ revision: 5 });
      expect(await second.save(user, save(60))).toMatchObject({ revision: 6 });
      expect(parseStoredMessage(await stored(user))?.revision).toBe(6);
    } finally {
      listener.disconnect();
    }
  });

  it('takes an If-Match revision as the expected one, and refuses a stale one', async () => {
    const store = await openStore();
    const user = scope();
    await store.save(user, save(1));
    expect(await store.save(user, save(2, { ifMatch: 1 }))).toMatchObject({ revision: 2 });
    expect(await store.save(user, save(3, { ifMatch: 1 }))).toMatchObject({
      status: 'stale',
      revision: 2,
    });
    expect(parseStoredMessage(await stored(user))).toMatchObject({ revision: 2, version: 1 });
  });

  it('returns the stored newer state, read from the message, on a conflict', async () => {
    const store = await openStore();
    const user = scope();
    await store.save(user, save(100));
    const outcome = await store.save(user, save(50));
    expect(outcome).toEqual({
      status: 'conflict',
      current: {
        stateJson: save(100).stateJson,
        revision: 1,
        savedAt: save(100).savedAt,
        version: 1,
        origin: 'tab "one"',
      },
    });
  });

  it('reads the revision after a delete from the counter, and counts on from it', async () => {
    const store = await openStore();
    const user = scope();
    await store.save(user, save(1));
    await store.save(user, save(2));
    expect(await store.delete(user, { ttlSeconds: 60 })).toMatchObject({
      deleted: true,
      revision: 3,
    });
    expect(await store.revision(user)).toBe(3);
    expect(await store.load(user)).toBeNull();
    expect(await store.save(user, save(3))).toMatchObject({ revision: 4 });
    expect(await store.revision(user)).toBe(4);
  });
});

describe('values written by the earlier hash layout', () => {
  function writeLegacy(user: StateScope, timestamp: number, revision: number): Promise<void> {
    return db.writeHashLayout(user.stateKey, timestamp, revision);
  }

  it('loads one and reads its revision', async () => {
    const store = await openStore();
    const user = scope();
    await writeLegacy(user, 70, 7);
    expect(await store.load(user)).toEqual({
      stateJson: '{"version":1,"timestamp":70}',
      revision: 7,
      savedAt: 5,
      version: 1,
      origin: 'old',
      epoch: '',
    });
    expect(await store.revision(user)).toBe(7);
  });

  it('loses to a newer save, which replaces it with a message, and wins over an older one', async () => {
    const store = await openStore();
    const user = scope();
    await writeLegacy(user, 70, 7);
    const older = await store.save(user, save(60));
    expect(older).toMatchObject({ status: 'conflict', current: { revision: 7, origin: 'old' } });
    expect(await store.save(user, save(80))).toMatchObject({ status: 'saved', revision: 8 });
    expect(await db.client.type(user.stateKey)).toBe('string');
    expect(parseStoredMessage(await stored(user))).toMatchObject({ revision: 8 });
  });

  it('is deleted with a bumped revision', async () => {
    const store = await openStore();
    const user = scope();
    await writeLegacy(user, 70, 7);
    expect(await store.delete(user, { ttlSeconds: 60 })).toMatchObject({
      deleted: true,
      revision: 8,
    });
    expect(await db.client.exists(user.stateKey)).toBe(0);
  });
});

describe('a value that is not a state message', () => {
  it('is reported and read as absent, and the next save replaces it', async () => {
    const logs: Logged[] = [];
    const store = await openStore(logs);
    const user = scope();
    await db.client.set(user.stateKey, 'written by hand');
    expect(await store.load(user)).toBeNull();
    expect(logs).toContainEqual({
      level: 'warn',
      message: 'stored state is not a state message; treating it as absent until the next save',
    });
    expect(await store.save(user, save(1))).toMatchObject({ status: 'saved', revision: 1 });
    expect(logs).toContainEqual({
      level: 'warn',
      message: 'a save replaced a stored value that was not a state message',
    });
    expect(parseStoredMessage(await stored(user))?.revision).toBe(1);
    expect(await store.delete(user, { ttlSeconds: 60 })).toMatchObject({ deleted: true });
  });
});

describe('parseStoredMessage', () => {
  it('reads every field, slicing the state text as stored', () => {
    const text = stateMessageText('{"version":1,"a":"x,\\"y"}', 12, 1.5e3, 'o"rigin', 7.25);
    expect(parseStoredMessage(text)).toEqual({
      stateJson: '{"version":1,"a":"x,\\"y"}',
      revision: 12,
      savedAt: 1500,
      version: 1,
      origin: 'o"rigin',
    });
  });

  it('gives version 0 (unknown) when the state does not start with it, and null for other text', () => {
    const text = stateMessageText('{"timestamp":1,"version":1}', 1, 2, 'o', 1);
    expect(parseStoredMessage(text)?.version).toBe(0);
    expect(parseStoredMessage('{"type":"state","revision":1}')).toBeNull();
    expect(parseStoredMessage(stateMessageText('{}', 1, 2, 'o'))).toBeNull();
    expect(parseStoredMessage('not json')).toBeNull();
  });
});
