import { afterEach, describe, expect, it } from 'vitest';
import { makeState } from '../../../test-support/fixtures.js';
import {
  type ChannelLike,
  createDashboardStore,
  createStatePersistence,
  type DashboardStoreApi,
  InvalidPersistedStateError,
  type PersistenceError,
  type StatePersistence,
  type StatePersistenceOptions,
  selectDashboardState,
} from './support/client.js';
import { SpyStorage, uniqueNames, waitUntil } from './support/fakes.js';

const running: StatePersistence[] = [];
const extraChannels: BroadcastChannel[] = [];
afterEach(() => {
  for (const engine of running.splice(0)) engine.stop();
  for (const channel of extraChannels.splice(0)) channel.close();
});

/** Counts messages posted by the engine on its channel. */
function countingChannel(counter: { posts: number; types: string[] }) {
  return (name: string): ChannelLike => {
    const channel = new BroadcastChannel(name);
    const post = channel.postMessage.bind(channel);
    return Object.assign(channel, {
      postMessage(message: unknown) {
        counter.posts += 1;
        counter.types.push((message as { type: string }).type);
        post(message);
      },
    });
  };
}

interface Tab {
  store: DashboardStoreApi;
  engine: StatePersistence;
  storage: SpyStorage;
  errors: PersistenceError[];
  sent: { posts: number; types: string[] };
}

function openTab(
  names: { storageKey: string; channelName: string },
  storage = new SpyStorage(),
  options: StatePersistenceOptions = {},
): Tab {
  const store = createDashboardStore();
  const errors: PersistenceError[] = [];
  const sent = { posts: 0, types: [] as string[] };
  const engine = createStatePersistence(store, {
    ...names,
    storage,
    lifecycle: {},
    createChannel: countingChannel(sent),
    onError: (error) => errors.push(error),
    ...options,
  });
  running.push(engine);
  engine.start();
  return { store, engine, storage, errors, sent };
}

const settle = (ms = 100) => new Promise((resolve) => setTimeout(resolve, ms));

describe('cross-tab sync over BroadcastChannel', () => {
  it('propagates a change to the other tab quickly', async () => {
    const names = uniqueNames('fast');
    const a = openTab(names);
    const b = openTab(names);
    await settle(30);
    const started = performance.now();
    a.store.getState().setActiveProject('from-a');
    await waitUntil(() => b.store.getState().activeProject === 'from-a', 2000, 'tab b to get it');
    expect(performance.now() - started).toBeLessThan(500);
  });

  it('converges two tabs and does not loop', async () => {
    const names = uniqueNames('converge');
    const a = openTab(names);
    const b = openTab(names);
    await settle(30);
    a.store.getState().setActiveProject('a1');
    await waitUntil(() => b.store.getState().activeProject === 'a1');
    b.store
      .getState()
      .addAlert({ id: 'from-b', type: 'info', title: 't', message: 'm', timestamp: 1 });
    await waitUntil(() => a.store.getState().widgets.alerts.length === 1);
    const postsA = a.sent.posts;
    const postsB = b.sent.posts;
    await settle(200);
    // Nothing more was sent: receiving a state never triggers a send.
    expect(a.sent.posts).toBe(postsA);
    expect(b.sent.posts).toBe(postsB);
    expect(a.store.getState().widgets).toEqual(b.store.getState().widgets);
    expect(a.store.getState().timestamp).toBe(b.store.getState().timestamp);
  });

  it('coalesces a synchronous burst into one message', async () => {
    const names = uniqueNames('burst');
    const a = openTab(names);
    const b = openTab(names);
    await settle(30);
    const before = a.sent.posts;
    for (let i = 0; i < 100; i++) a.store.getState().setActiveProject(`p${i}`);
    await waitUntil(() => b.store.getState().activeProject === 'p99');
    await settle(50);
    expect(a.sent.posts - before).toBe(1);
  });

  it('always sends the last change of a spread-out burst', async () => {
    const names = uniqueNames('spread');
    const a = openTab(names);
    const b = openTab(names);
    await settle(30);
    for (let i = 0; i < 20; i++) {
      a.store.getState().setActiveProject(`p${i}`);
      await new Promise((resolve) => setTimeout(resolve, 2));
    }
    await waitUntil(() => b.store.getState().activeProject === 'p19');
  });

  it('sends deltas after the first full state, and the other tab converges', async () => {
    const names = uniqueNames('delta');
    const a = openTab(names);
    const b = openTab(names);
    await settle(30);
    a.store
      .getState()
      .setFullState(makeState({ alerts: 20, activities: 50, timestamp: Date.now() + 1 }));
    await waitUntil(() => b.store.getState().widgets.alerts.length === 20);
    for (let i = 0; i < 5; i++) {
      a.store
        .getState()
        .setMetrics({ title: 'M', metrics: [{ id: 'm', label: 'm', value: i }], lastUpdated: 1 });
      await settle(25);
    }
    await waitUntil(() => b.store.getState().widgets.metrics?.metrics[0]?.value === 4);
    expect(a.sent.types.filter((t) => t === 'patch').length).toBeGreaterThanOrEqual(4);
    expect(b.store.getState().widgets).toEqual(a.store.getState().widgets);
  });

  it('applies a delta even after its own transient changes (loading, errors)', async () => {
    const names = uniqueNames('delta-transient');
    const a = openTab(names);
    const b = openTab(names);
    await settle(30);
    a.store.getState().setActiveProject('base');
    await waitUntil(() => b.store.getState().activeProject === 'base');
    await settle(30);
    b.store.getState().setLoading(true, ['agent']);
    b.store.getState().setError('agent', 'slow');
    await settle(5);
    a.store.getState().setActiveProject('after');
    await waitUntil(() => b.store.getState().activeProject === 'after', 2000, 'the delta');
    expect(b.store.getState().loading.isLoading).toBe(true);
    expect(a.sent.types).toContain('patch');
  });

  it('asks the sender for its full state when it does not hold a delta’s base', async () => {
    const names = uniqueNames('delta-resync');
    const a = openTab(names);
    a.store.getState().setActiveProject('first');
    await settle(30);
    // A's peers are assumed to hold 'first'; this relay fakes a delta on another base.
    const relay = new BroadcastChannel(names.channelName);
    extraChannels.push(relay);
    const heard: Array<{ type: string; to?: string }> = [];
    relay.onmessage = (event) => heard.push(event.data);
    relay.postMessage({
      type: 'patch',
      key: names.storageKey,
      origin: 'peer-x',
      base: { timestamp: 1, origin: 'unknown' },
      stamp: { timestamp: Date.now() + 60_000, origin: 'peer-x' },
      changes: { activeProject: 'cannot-apply' },
    });
    await waitUntil(
      () => heard.some((m) => m.type === 'hello' && m.to === 'peer-x'),
      2000,
      'a resync request',
    );
    expect(a.store.getState().activeProject).toBe('first');
  });

  it('reports a malformed delta', async () => {
    const names = uniqueNames('delta-bad');
    const a = openTab(names);
    const relay = new BroadcastChannel(names.channelName);
    extraChannels.push(relay);
    await settle(30);
    relay.postMessage({
      type: 'patch',
      key: names.storageKey,
      origin: 'x',
      base: 'nope',
      stamp: null,
      changes: 1,
    });
    await waitUntil(() => a.errors.length === 1);
    expect(a.errors[0]).toBeInstanceOf(InvalidPersistedStateError);
  });

  it('seeds a tab opened later with the current state', async () => {
    const names = uniqueNames('seed');
    // Separate storages: the new tab can only learn the state from its peer.
    const a = openTab(names);
    a.store
      .getState()
      .setFullState(makeState({ activeProject: 'current', timestamp: Date.now() - 60_000 }));
    await settle(30);
    const late = openTab(names);
    await waitUntil(() => late.store.getState().activeProject === 'current', 2000, 'seeding');
  });

  it('sends nothing for its changes while no other tab has been heard from', async () => {
    const names = uniqueNames('alone');
    const a = openTab(names);
    await settle(30);
    for (let i = 0; i < 10; i++) {
      a.store.getState().setActiveProject(`p${i}`);
      await settle(20);
    }
    // Only its start-up hello: nobody listens, a tab opened later asks for the state.
    expect(a.sent.types).toEqual(['hello']);
    const late = openTab(names);
    await waitUntil(() => late.store.getState().activeProject === 'p9', 2000, 'seeding');
    a.store.getState().setActiveProject('after');
    await waitUntil(() => late.store.getState().activeProject === 'after', 2000, 'the change');
  });

  it('an untouched tab answers a newcomer’s hello, so the newcomer’s changes reach it', async () => {
    const names = uniqueNames('pristine-peer');
    const a = openTab(names);
    await settle(30);
    const late = openTab(names);
    await settle(30);
    // The untouched tab had nothing to send but asked the newcomer for its state.
    expect(a.sent.types).toEqual(['hello', 'hello']);
    // Both untouched: the newcomer does not answer that directed hello (no ping-pong).
    expect(late.sent.types).toEqual(['hello']);
    late.store.getState().setActiveProject('from-late');
    await waitUntil(() => a.store.getState().activeProject === 'from-late', 2000, 'the change');
  });

  it('sends a change made before it heard from a peer once it does', async () => {
    const names = uniqueNames('alone-then-peer');
    const a = openTab(names, new SpyStorage());
    a.store.getState().setActiveProject('older');
    await settle(30);
    const b = openTab(names, new SpyStorage());
    // Set before a's answer arrives: b keeps its newer change and then sends it to a.
    b.store.getState().setActiveProject('newer');
    await waitUntil(() => a.store.getState().activeProject === 'newer', 2000, 'the change');
    expect(b.store.getState().activeProject).toBe('newer');
  });

  it('clearing while the hello is in flight leaves nothing behind', async () => {
    const names = uniqueNames('clear-inflight');
    const shared = new SpyStorage();
    const a = openTab(names, shared);
    a.store.getState().setActiveProject('old-session');
    a.engine.flush();
    await settle(30);
    const late = openTab(names, new SpyStorage());
    await late.engine.clear();
    await waitUntil(() => a.store.getState().activeProject === null, 3000, 'the peer to clear');
    await settle(150);
    expect(late.store.getState().activeProject).toBeNull();
    expect(shared.data.has(names.storageKey)).toBe(false);
  });

  it('keeps a change made while the hello is in flight over an older peer answer', async () => {
    const names = uniqueNames('hello-race');
    const a = openTab(names);
    a.store.getState().setActiveProject('peer-state');
    await settle(30);
    const late = openTab(names);
    late.store.getState().setActiveProject('set-before-answers');
    await settle(150);
    expect(late.store.getState().activeProject).toBe('set-before-answers');
    await waitUntil(() => a.store.getState().activeProject === 'set-before-answers');
  });

  it('keeps broadcasting local changes after ignoring an echo', async () => {
    const names = uniqueNames('echo');
    const a = openTab(names);
    const b = openTab(names);
    // A raw channel replays A's own message to A, as a buggy relay would.
    const relay = new BroadcastChannel(names.channelName);
    extraChannels.push(relay);
    await settle(30);
    a.store.getState().setActiveProject('one');
    await waitUntil(() => b.store.getState().activeProject === 'one');
    // A's own last message comes back to A (as a relaying peer or a buggy polyfill would do).
    const echo = { ...selectDashboardState(a.store.getState()), activeProject: 'echo' };
    relay.postMessage({
      type: 'state',
      key: names.storageKey,
      origin: a.engine.origin,
      state: echo,
    });
    await settle(50);
    expect(a.store.getState().activeProject).toBe('one');
    a.store.getState().setActiveProject('two');
    await waitUntil(
      () => b.store.getState().activeProject === 'two',
      2000,
      'next change after an echo',
    );
  });

  it('merges changes two tabs made at once instead of keeping only the newer', async () => {
    const names = uniqueNames('merge');
    const a = openTab(names);
    const b = openTab(names);
    await settle(30);
    a.store.getState().setFullState(makeState({ alerts: 3, activities: 2 }));
    await waitUntil(() => b.store.getState().widgets.alerts.length === 3, 2000, 'b seeded');
    await settle(30);
    // Both edit before either hears of the other: a dismissal here, new activity there.
    a.store.getState().dismissAlert('alert-1');
    b.store.getState().addActivity({ id: 'b-new', user: 'bea', action: 'added', timestamp: 5 });
    const both = (tab: Tab) => () => {
      const { widgets } = tab.store.getState();
      return (
        widgets.alerts.find((alert) => alert.id === 'alert-1')?.dismissed === true &&
        widgets.activity?.activities[0]?.id === 'b-new'
      );
    };
    await waitUntil(both(a), 3000, 'a to hold both changes');
    await waitUntil(both(b), 3000, 'b to hold both changes');
    await waitUntil(
      () =>
        JSON.stringify(a.store.getState().widgets) === JSON.stringify(b.store.getState().widgets),
      3000,
      'the tabs to hold the same widgets',
    );
    // Settled: once the merges crossed, no tab keeps re-sending.
    await settle(200);
    const posts = a.sent.posts + b.sent.posts;
    await settle(300);
    expect(a.sent.posts + b.sent.posts).toBe(posts);
    expect(posts).toBeLessThan(12);
  });

  it('merges three tabs editing at once into one state holding every edit', async () => {
    const names = uniqueNames('merge3');
    const tabs = [openTab(names), openTab(names), openTab(names)];
    await settle(30);
    tabs[0]?.store.getState().setFullState(makeState({ alerts: 0, activities: 0 }));
    await waitUntil(
      () => tabs.every((tab) => tab.store.getState().widgets.activity !== null),
      2000,
      'tabs seeded',
    );
    await settle(30);
    tabs.forEach((tab, i) => {
      tab.store
        .getState()
        .addAlert({ id: `t${i}`, type: 'info', title: 't', message: 'm', timestamp: i });
    });
    const ids = (tab: Tab) =>
      tab.store
        .getState()
        .widgets.alerts.map((alert) => alert.id)
        .sort()
        .join();
    for (const tab of tabs) await waitUntil(() => ids(tab) === 't0,t1,t2', 3000, 'every edit');
  });

  it('applies only newer states from other tabs', async () => {
    const names = uniqueNames('newer');
    const a = openTab(names);
    a.store.getState().setActiveProject('mine');
    const relay = new BroadcastChannel(names.channelName);
    extraChannels.push(relay);
    await settle(30);
    relay.postMessage({
      type: 'state',
      key: names.storageKey,
      origin: 'other',
      state: makeState({ activeProject: 'older', timestamp: 1 }),
    });
    await settle(50);
    expect(a.store.getState().activeProject).toBe('mine');
    const newer = makeState({
      activeProject: 'newer',
      timestamp: a.store.getState().timestamp + 1,
    });
    relay.postMessage({ type: 'state', key: names.storageKey, origin: 'other', state: newer });
    await waitUntil(() => a.store.getState().activeProject === 'newer');
  });

  it('breaks a timestamp tie the same way in every tab', async () => {
    const names = uniqueNames('tie');
    const a = openTab(names, new SpyStorage(), { origin: 'tab-a' });
    const b = openTab(names, new SpyStorage(), { origin: 'tab-b' });
    await settle(30);
    const t = Date.now() + 10_000;
    a.store.getState().setFullState(makeState({ activeProject: 'A', timestamp: t }));
    b.store.getState().setFullState(makeState({ activeProject: 'B', timestamp: t }));
    // Both are "local" changes with equal timestamps: the larger origin wins everywhere.
    a.store.getState().setActiveProject('A');
    b.store.getState().setActiveProject('B');
    await waitUntil(
      () => a.store.getState().activeProject === b.store.getState().activeProject,
      3000,
      'the tabs to agree',
    );
    await settle(100);
    expect(a.store.getState().activeProject).toBe(b.store.getState().activeProject);
  });

  it('ignores messages for another storage key', async () => {
    const names = uniqueNames('keys');
    const a = openTab(names);
    const other = openTab({ ...names, storageKey: `${names.storageKey}-other` });
    await settle(30);
    other.store.getState().setActiveProject('elsewhere');
    await settle(100);
    expect(a.store.getState().activeProject).toBeNull();
  });

  it('reports and ignores an invalid state from a peer', async () => {
    const names = uniqueNames('invalid');
    const a = openTab(names);
    const relay = new BroadcastChannel(names.channelName);
    extraChannels.push(relay);
    await settle(30);
    relay.postMessage({
      type: 'state',
      key: names.storageKey,
      origin: 'x',
      state: { version: 1, nonsense: true },
    });
    relay.postMessage('not even an object');
    await waitUntil(() => a.errors.length === 1);
    expect(a.errors[0]).toBeInstanceOf(InvalidPersistedStateError);
    expect(a.store.getState().activeProject).toBeNull();
  });

  it('clears every tab when one clears', async () => {
    const names = uniqueNames('clear');
    const shared = new SpyStorage();
    const a = openTab(names, shared);
    const b = openTab(names, shared);
    await settle(30);
    a.store.getState().setActiveProject('logged-in');
    await waitUntil(() => b.store.getState().activeProject === 'logged-in');
    a.engine.flush();
    await a.engine.clear();
    await waitUntil(() => b.store.getState().activeProject === null, 2000, 'tab b to clear');
    await settle(1200);
    expect(shared.data.has(names.storageKey)).toBe(false);
  });

  it('writes storage once for a change seen by two tabs sharing it', async () => {
    const names = uniqueNames('one-write');
    const shared = new SpyStorage();
    const a = openTab(names, shared, { debounceMs: 50 });
    const b = openTab(names, shared, { debounceMs: 50 });
    await settle(30);
    a.store.getState().setActiveProject('x');
    await waitUntil(() => b.store.getState().activeProject === 'x');
    await waitUntil(() => shared.writes.length > 0, 3000, 'the write');
    await settle(200);
    expect(shared.writes).toHaveLength(1);
  });

  it('reports a channel that cannot be opened and keeps persisting locally', () => {
    const names = uniqueNames('no-channel');
    const errors: PersistenceError[] = [];
    const storage = new SpyStorage();
    const store = createDashboardStore();
    const engine = createStatePersistence(store, {
      ...names,
      storage,
      lifecycle: {},
      onError: (error) => errors.push(error),
      createChannel: () => {
        throw new Error('BroadcastChannel is not supported');
      },
    });
    running.push(engine);
    engine.start();
    store.getState().setActiveProject('p');
    engine.flush();
    expect(errors[0]?.code).toBe('cross_tab_failed');
    expect(storage.envelope(names.storageKey)?.state.activeProject).toBe('p');
  });
});
