// Copies are owned: the owner read from a token, the envelope and tab messages naming it,
// and the engine using only its own owner's copies (another person's is discarded and
// logged, never shown, merged or sent), including when the token changes hands in place.
import { afterEach, describe, expect, it } from 'vitest';
import { makeState } from '../../../test-support/fixtures.js';
import {
  createDashboardStore,
  createStatePersistence,
  type Owner,
  ownerFromToken,
  type PersistenceLogger,
  type StatePersistence,
  type StatePersistenceOptions,
  sameOwner,
} from './support/client.js';
import { SpyStorage, storageHolding, uniqueNames, waitUntil } from './support/fakes.js';

const ADA: Owner = { workspaceId: 'acme', userId: 'ada' };
const BOB: Owner = { workspaceId: 'acme', userId: 'bob' };

/** A JWT-shaped token with these claims (unsigned: the client never verifies). */
function token(claims: Record<string, unknown>): string {
  const part = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url');
  return `${part({ alg: 'HS256', typ: 'JWT' })}.${part(claims)}.signature`;
}
const tokenOf = (owner: Owner) => token({ sub: owner.userId, wid: owner.workspaceId, exp: 4e9 });

/** A logger that keeps every warning's event name and context. */
function recordingLogger(): PersistenceLogger & { warnings: Array<[string, unknown]> } {
  const warnings: Array<[string, unknown]> = [];
  return {
    warnings,
    debug() {},
    error() {},
    warn: (event, context) => warnings.push([event, context]),
  };
}

const running: StatePersistence[] = [];
afterEach(() => {
  for (const engine of running.splice(0)) engine.stop();
});

function start(
  options: StatePersistenceOptions & { store?: ReturnType<typeof createDashboardStore> },
) {
  const { store = createDashboardStore(), ...engineOptions } = options;
  const logger = recordingLogger();
  const engine = createStatePersistence(store, {
    lifecycle: {},
    createChannel: null,
    debounceMs: 0,
    debug: logger,
    onError() {},
    ...engineOptions,
  });
  running.push(engine);
  engine.start();
  return { store, engine, logger };
}

/** A server that is never reached: every socket fails, so the connection retries soon. */
const unreachable = (getToken: () => string | Promise<string>) => ({
  url: 'http://127.0.0.1:1',
  getToken,
  createWebSocket: (): never => {
    throw new Error('offline in this test');
  },
  reconnect: { initialDelayMs: 10, maxDelayMs: 20 },
});

describe('owners', () => {
  it('reads the owner a token names without verifying it, and nothing from other strings', () => {
    expect(ownerFromToken(tokenOf(ADA))).toEqual(ADA);
    expect(ownerFromToken(token({ sub: 'zoë', wid: 'ünïcode' }))).toEqual({
      workspaceId: 'ünïcode',
      userId: 'zoë',
    });
    expect(ownerFromToken('opaque-token')).toBeNull();
    expect(ownerFromToken(token({ sub: 'ada' }))).toBeNull(); // no workspace
    expect(ownerFromToken('a.%%%.c')).toBeNull();
  });

  it('counts two copies without an owner as the same, and no owner as another than one', () => {
    expect(sameOwner(ADA, { ...ADA })).toBe(true);
    expect(sameOwner(ADA, BOB)).toBe(false);
    expect(sameOwner(undefined, null)).toBe(true);
    expect(sameOwner(ADA, undefined)).toBe(false);
  });
});

describe('stored copies are owned', () => {
  it('names the owner in the envelope it writes', () => {
    const storage = new SpyStorage();
    const { store, engine } = start({ storageKey: 'owned', storage, owner: ADA });
    store.getState().setActiveProject('mine');
    engine.flush();
    expect(JSON.parse(storage.data.get('owned') ?? '{}').owner).toEqual(ADA);
  });

  it('discards and logs a stored copy of another owner: never shown', () => {
    const storage = storageHolding('owned', makeState({ activeProject: 'ada-only' }), 4, ADA);
    const { store, logger } = start({ storageKey: 'owned', storage, owner: BOB });
    expect(store.getState().activeProject).toBeNull();
    expect(storage.data.has('owned')).toBe(false);
    expect(logger.warnings).toContainEqual([
      'storage.other_owner_discarded',
      { storageKey: 'owned', stored: 'acme/ada', owner: 'acme/bob' },
    ]);
  });

  it('discards a copy without an owner when it has one; uses it when it has none', () => {
    const unowned = () => storageHolding('owned', makeState({ activeProject: 'whose' }));
    const owned = start({ storageKey: 'owned', storage: unowned(), owner: ADA });
    expect(owned.store.getState().activeProject).toBeNull();
    const local = start({ storageKey: 'owned', storage: unowned() });
    expect(local.store.getState().activeProject).toBe('whose');
  });

  it('learns the owner from the first token before loading, and loads only that owner’s copy', async () => {
    const storage = storageHolding('owned', makeState({ activeProject: 'bob-stored' }), 2, BOB);
    const { store, engine } = start({
      storageKey: 'owned',
      storage,
      server: unreachable(async () => tokenOf(BOB)),
    });
    expect(engine.getSnapshot().isInitialized).toBe(false);
    await waitUntil(() => engine.getSnapshot().isInitialized, 5000, 'the owner from the token');
    expect(store.getState().activeProject).toBe('bob-stored');
  });

  it('replaces the local copies when the token starts naming another person', async () => {
    const storage = storageHolding('owned', makeState({ activeProject: 'ada-stored' }), 2, ADA);
    let current = tokenOf(ADA);
    const { store, logger } = start({
      storageKey: 'owned',
      storage,
      server: unreachable(() => current),
    });
    expect(store.getState().activeProject).toBe('ada-stored');
    current = tokenOf(BOB); // the next reconnect asks for a token: Bob's
    await waitUntil(() => store.getState().activeProject === null, 5000, 'ada’s copy dropped');
    expect(storage.data.has('owned')).toBe(false);
    expect(logger.warnings.map(([event]) => event)).toContain('owner.switched');
    store.getState().setActiveProject('bob-edit');
    running[0]?.flush();
    expect(JSON.parse(storage.data.get('owned') ?? '{}').owner).toEqual(BOB);
  });
});

describe('the store in memory is owned', () => {
  it('empties a store still showing another person’s dashboard before a new engine loads', () => {
    const store = createDashboardStore();
    const ada = createStatePersistence(store, {
      storageKey: 'owned-store',
      storage: new SpyStorage(),
      lifecycle: {},
      createChannel: null,
      owner: ADA,
    });
    ada.start();
    store.getState().setActiveProject('ada-in-memory');
    ada.stop();
    const storage = new SpyStorage();
    const bob = start({ storageKey: 'owned-store', storage, owner: BOB, store });
    expect(store.getState().activeProject).toBeNull();
    bob.engine.flush();
    expect(storage.data.get('owned-store') ?? '').not.toContain('ada-in-memory');
  });
});

describe('tab messages are owned', () => {
  it('ignores and logs the messages of a tab signed in as another person', async () => {
    const names = uniqueNames('owned-tabs');
    const open = (owner: Owner) =>
      start({
        ...names,
        storage: new SpyStorage(),
        owner,
        createChannel: (n) => new BroadcastChannel(n),
      });
    const ada = open(ADA);
    const bob = open(BOB);
    const adaAgain = open(ADA);
    ada.store.getState().setActiveProject('ada-tab');
    await waitUntil(
      () => adaAgain.store.getState().activeProject === 'ada-tab',
      5000,
      'same owner',
    );
    // Bob's tab got the same broadcast (delivered before or with the one above) and dropped it.
    await waitUntil(
      () => bob.logger.warnings.some(([event]) => event === 'tab.other_owner_ignored'),
      5000,
      'bob’s tab to log it',
    );
    expect(bob.store.getState().activeProject).toBeNull();
  });

  it('takes a clear only from its own owner’s tabs, or from a clear that names nobody', async () => {
    const names = uniqueNames('owned-clear');
    const bob = start({
      ...names,
      storage: new SpyStorage(),
      owner: BOB,
      createChannel: (n) => new BroadcastChannel(n),
    });
    bob.store.getState().setActiveProject('bob-tab');
    const channel = new BroadcastChannel(names.channelName);
    const origin = 'other-tab';
    channel.postMessage({
      type: 'clear',
      scope: 'local',
      key: names.storageKey,
      origin,
      owner: ADA,
    });
    await waitUntil(
      () => bob.logger.warnings.some(([event]) => event === 'tab.other_owner_ignored'),
      5000,
      'the foreign clear',
    );
    expect(bob.store.getState().activeProject).toBe('bob-tab');
    channel.postMessage({ type: 'clear', scope: 'local', key: names.storageKey, origin });
    await waitUntil(() => bob.store.getState().activeProject === null, 5000, 'the unowned clear');
    channel.close();
  });
});
