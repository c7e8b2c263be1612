// Two "devices" (separate stores, storages, no shared BroadcastChannel) synced through
// the real server and a real Redis, including Redis going away and coming back.
import { describe, expect, it } from 'vitest';
import { WebSocket } from 'ws';
import { makeState } from '../../../test-support/fixtures.js';
import {
  type FetchLike,
  ServerRejectedError,
  type StatePersistenceOptions,
} from './support/client.js';
import {
  countingFetch,
  latch,
  MessageGate,
  SpyStorage,
  storageHolding,
  waitUntil,
} from './support/fakes.js';
import { type RealDevice, setUpRealServer } from './support/real-server.js';

const real = setUpRealServer({
  secret: 'client-integration-secret',
  workspaceId: 'ws-client',
  userPrefix: 'user',
});

interface Device extends RealDevice {
  tokenRequests: number;
}

const newUser = real.newUser;
/** The owner the tokens of `userId` name: a stored copy of theirs carries it. */
const ownerOf = (userId: string) => ({ workspaceId: 'ws-client', userId });

function device(
  userId: string,
  options: {
    storage?: SpyStorage;
    fetch?: FetchLike;
    token?: () => Promise<string>;
    /** Receives the `type` of every message the device's socket gets. */
    frames?: string[];
    /** Holds back chosen incoming messages (a slow broadcast). */
    gate?: MessageGate;
    /** Sockets cannot be opened while this returns false (the device is offline). */
    online?: () => boolean;
    saveThrottleMs?: number;
  } & StatePersistenceOptions = {},
): Device {
  const {
    fetch,
    token,
    frames,
    gate,
    online,
    saveThrottleMs,
    storage = new SpyStorage(),
    ...engineOptions
  } = options;
  const counted = { tokenRequests: 0 };
  const realDevice = real.device(userId, {
    ...engineOptions,
    storage,
    sync: {
      getToken: () => {
        counted.tokenRequests += 1;
        return token ? token() : real.token(userId);
      },
      createWebSocket: (url) => {
        if (online && !online()) throw new Error('offline');
        const socket = new WebSocket(url);
        socket.addEventListener('message', (event) => {
          frames?.push((JSON.parse(String(event.data)) as { type: string }).type);
        });
        return gate ? gate.wrap(socket) : socket;
      },
      reconnect: { initialDelayMs: 50, maxDelayMs: 400 },
      ...(fetch ? { fetch } : {}),
      ...(saveThrottleMs === undefined ? {} : { saveThrottleMs }),
    },
  });
  // Assigned onto `counted`, so getToken counts on the device the test holds.
  return Object.assign(counted, realDevice);
}

const synced = (d: Device) => () => d.engine.getSnapshot().syncStatus === 'synced';

async function syncedDevice(
  userId: string,
  options?: Parameters<typeof device>[1],
): Promise<Device> {
  const d = device(userId, options);
  await waitUntil(synced(d), 10_000, 'the device synced');
  return d;
}

/** Two devices of one user, started together, once both are synced. */
async function twoSyncedDevices(
  userId: string,
  bOptions?: Parameters<typeof device>[1],
): Promise<[Device, Device]> {
  const a = device(userId);
  const b = device(userId, bOptions);
  await waitUntil(synced(a), 10_000, 'device a synced');
  await waitUntil(synced(b), 10_000, 'device b synced');
  return [a, b];
}

/** A new user whose first device is synced and has saved `activeProject` on the server. */
async function userWithSavedProject(activeProject: string): Promise<{ user: string; a: Device }> {
  const user = newUser();
  const a = await syncedDevice(user);
  a.store.getState().setActiveProject(activeProject);
  await waitUntilServerHas(user, activeProject);
  return { user, a };
}

async function serverCopy(userId: string): Promise<{ status: number; body: unknown }> {
  const response = await real.fetchState(userId);
  return { status: response.status, body: response.status === 200 ? await response.json() : null };
}

describe('server sync against the real server and Redis', () => {
  it('sends the first change of a burst at once, and holds the next for the save interval', async () => {
    const user = newUser();
    const a = await syncedDevice(user, { saveThrottleMs: 60_000 });
    const b = await syncedDevice(user);
    // A trailing wait of 60 s would fail this: the first change leaves at once.
    a.store.getState().setActiveProject('first');
    await waitUntil(() => b.store.getState().activeProject === 'first', 10_000, 'b got it');
    // The next change waits for the interval (at most one save per interval)...
    a.store.getState().setActiveProject('second');
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(b.store.getState().activeProject).toBe('first');
    // ...or for the page to close.
    a.engine.flush();
    await waitUntil(() => b.store.getState().activeProject === 'second', 10_000, 'b got more');
  });

  it('converges two devices through the server, both ways', async () => {
    const user = newUser();
    const [a, b] = await twoSyncedDevices(user);
    a.store.getState().setActiveProject('from-a');
    await waitUntil(
      () => b.store.getState().activeProject === 'from-a',
      10_000,
      'b to get a’s change',
    );
    b.store
      .getState()
      .addAlert({ id: 'b1', type: 'warning', title: 'B', message: 'from b', timestamp: 1 });
    await waitUntil(
      () => a.store.getState().widgets.alerts.length === 1,
      10_000,
      'a to get b’s change',
    );
    expect(a.store.getState().widgets).toEqual(b.store.getState().widgets);
    // The adopted state is written to the device's own storage too.
    await waitUntil(
      () => b.storage.envelope('integration')?.state.activeProject === 'from-a',
      5000,
    );
    expect(a.errors).toEqual([]);
    expect(b.errors).toEqual([]);
  });

  it('converges two devices through patch messages, without refetching', async () => {
    const user = newUser();
    const gets = countingFetch();
    const frames: string[] = [];
    const [a, b] = await twoSyncedDevices(user, { fetch: gets.fetch, frames });
    // The first change has no base on the server: it arrives whole, and b holds it.
    a.store.getState().setMetrics(makeState({ metrics: 20 }).widgets.metrics);
    await waitUntil(() => b.store.getState().widgets.metrics !== null, 10_000, 'first change');
    const first = frames.length;
    for (const value of [101, 102, 103]) {
      const metrics = a.store.getState().widgets.metrics;
      if (!metrics) throw new Error('metrics vanished');
      a.store.getState().setMetrics({
        ...metrics,
        metrics: metrics.metrics.map((m, i) => (i === 7 ? { ...m, value } : m)),
      });
      await waitUntil(
        () => b.store.getState().widgets.metrics?.metrics[7]?.value === value,
        10_000,
        `b to get metric value ${value}`,
      );
    }
    // Changes only: b also hears a second `ready` once its instance learns the new counter's
    // epoch, which may come before or after the first change.
    const changes = frames
      .slice(first)
      .filter((type) => ['state', 'patch', 'deleted'].includes(type));
    expect(changes).toEqual(['patch', 'patch', 'patch']);
    expect(b.store.getState().widgets).toEqual(a.store.getState().widgets);
    expect(gets.calls).toBe(0);
    // And back: a change made on b's patched state reaches a.
    b.store.getState().setActiveProject('from-b');
    await waitUntil(() => a.store.getState().activeProject === 'from-b', 10_000, 'a gets b’s');
    expect(a.errors).toEqual([]);
    expect(b.errors).toEqual([]);
  });

  it('pulls the server’s state into a fresh device', async () => {
    const user = newUser();
    const a = await syncedDevice(user);
    a.store
      .getState()
      .setFullState(makeState({ activeProject: 'on-server', timestamp: Date.now() - 30_000 }));
    await waitUntil(() => a.engine.getSnapshot().lastSavedAt !== null, 5000);
    await waitUntilServerHas(user, 'on-server');
    const fresh = device(user);
    await waitUntil(
      () => fresh.store.getState().activeProject === 'on-server',
      10_000,
      'fresh device pull',
    );
    await waitUntil(synced(fresh), 5000);
  });

  it('pushes changes made offline when it connects, and stores the revision', async () => {
    const user = newUser();
    const storage = storageHolding(
      'integration',
      makeState({ activeProject: 'offline-edit' }),
      undefined,
      ownerOf(user),
    );
    // Default 1 s storage debounce: the server's 100 ms save is acknowledged before the write.
    const a = device(user, { storage, debounceMs: 1000 });
    await waitUntil(synced(a), 10_000);
    await waitUntilServerHas(user, 'offline-edit');
    a.store.getState().setActiveProject('after');
    await waitUntil(
      () =>
        storage.envelope('integration')?.revision !== undefined &&
        storage.envelope('integration')?.state.activeProject === 'after',
      5000,
      'revision in envelope',
    );
  });

  it('adopts the newer server state over an older unsynced local one', async () => {
    const { user } = await userWithSavedProject('newest');
    const storage = storageHolding(
      'integration',
      makeState({ activeProject: 'stale-local', timestamp: Date.now() - 60_000 }),
      undefined,
      ownerOf(user),
    );
    const b = device(user, { storage });
    await waitUntil(
      () => b.store.getState().activeProject === 'newest',
      10_000,
      'b adopts the server state',
    );
    await waitUntil(synced(b), 5000);
    expect((await serverCopy(user)).body).toMatchObject({ state: { activeProject: 'newest' } });
  });

  it('keeps the newer local state over an older server one and pushes it', async () => {
    const user = newUser();
    const a = await syncedDevice(user);
    a.store
      .getState()
      .setFullState(makeState({ activeProject: 'old-server', timestamp: Date.now() - 60_000 }));
    await waitUntilServerHas(user, 'old-server');
    const storage = storageHolding(
      'integration',
      makeState({ activeProject: 'newer-local' }),
      undefined,
      ownerOf(user),
    );
    device(user, { storage });
    await waitUntilServerHas(user, 'newer-local');
    await waitUntil(
      () => a.store.getState().activeProject === 'newer-local',
      10_000,
      'a gets b’s newer state',
    );
  });

  it('resetServerCopy deletes the server copy and resets the other device', async () => {
    const user = newUser();
    const [a, b] = await twoSyncedDevices(user);
    a.store.getState().setActiveProject('to-clear');
    await waitUntil(() => b.store.getState().activeProject === 'to-clear', 10_000);
    expect(await a.engine.resetServerCopy()).toEqual({ local: true, server: 'deleted' });
    expect((await serverCopy(user)).status).toBe(404);
    await waitUntil(
      () => b.store.getState().activeProject === null,
      10_000,
      'b reset by the delete',
    );
    b.engine.flush();
    expect(b.storage.data.has('integration')).toBe(false);
    expect(await b.engine.resetServerCopy()).toEqual({ local: true, server: 'nothing-stored' });
  });

  it('a reset made while offline deletes the server copy once the socket is back', async () => {
    const { user, a } = await userWithSavedProject('cleared-offline');
    let online = false;
    const b = device(user, { online: () => online });
    await waitUntil(() => b.engine.getSnapshot().syncStatus === 'offline', 10_000, 'b offline');
    expect(await b.engine.resetServerCopy()).toEqual({ local: true, server: 'offline-queued' });
    online = true;
    await waitUntil(
      () => a.store.getState().activeProject === null,
      10_000,
      'a reset by b’s delete',
    );
    expect((await serverCopy(user)).status).toBe(404);
    await waitUntil(synced(b), 10_000);
    expect(b.store.getState().activeProject).toBeNull();
  });

  it('a device that missed a delete while away takes it instead of storing the state again', async () => {
    const user = newUser();
    // Storage written after the save's ack, so the envelope records the revision.
    const a = device(user, { debounceMs: 1000 });
    await waitUntil(synced(a), 10_000);
    a.store.getState().setActiveProject('deleted-while-away');
    await waitUntil(
      () => a.storage.envelope('integration')?.revision !== undefined,
      5000,
      'the revision in a’s envelope',
    );
    // The same browser profile, reopened later: it holds what a had stored.
    const storage = new SpyStorage();
    storage.setItem('integration', a.storage.data.get('integration') ?? '');
    expect(await a.engine.resetServerCopy()).toEqual({ local: true, server: 'deleted' });
    a.engine.stop();

    const b = device(user, { storage });
    await waitUntil(
      () => b.store.getState().activeProject === null && synced(b)(),
      10_000,
      'b to take the delete',
    );
    expect((await serverCopy(user)).status).toBe(404);
    expect(b.errors).toEqual([]);
  });

  it('a GET that finds the state deleted before the `deleted` message arrives does not store it again', async () => {
    const { user, a } = await userWithSavedProject('from-a');

    const getHeld = latch();
    let getStarted = false;
    // The request is made only on release, so it is served after the delete below.
    const lateFetch: FetchLike = async (url, init) => {
      getStarted = true;
      await getHeld.opened;
      return fetch(url, init);
    };
    const gate = new MessageGate();
    const frames: string[] = [];
    const b = device(user, { fetch: lateFetch, gate, frames });
    await waitUntil(() => getStarted, 10_000, 'b’s first GET');
    // b's own save is acknowledged while the GET waits: b holds the server's revision.
    b.store.getState().setActiveProject('from-b');
    await waitUntil(() => frames.includes('saved'), 10_000, 'b’s save acknowledged');

    gate.hold('deleted');
    expect(await a.engine.resetServerCopy()).toEqual({ local: true, server: 'deleted' });
    await waitUntil(() => gate.heldCount === 1, 10_000, 'the delete to reach b');
    getHeld.open();
    await waitUntil(
      () => frames.includes('error') || frames.filter((f) => f === 'saved').length > 1,
      10_000,
      'the answer to b’s restore',
    );
    gate.release();
    await waitUntil(() => b.store.getState().activeProject === null, 10_000, 'b reset');
    expect((await serverCopy(user)).status).toBe(404);
    expect(frames.filter((f) => f === 'saved')).toHaveLength(1);
    expect(a.store.getState().activeProject).toBeNull();
    expect(b.errors).toEqual([]);
  });

  it('a reset during a load in flight leaves nothing behind', async () => {
    const { user } = await userWithSavedProject('old-data');

    // The fresh device's GET is held until after it cleared.
    const answerHeld = latch();
    let getStarted = false;
    const slowFetch: FetchLike = async (url, init) => {
      getStarted = true;
      const response = await fetch(url, init);
      await answerHeld.opened;
      return response;
    };
    const fresh = device(user, { fetch: slowFetch });
    await waitUntil(() => getStarted, 10_000, 'the load to start');
    await fresh.engine.resetServerCopy();
    answerHeld.open();
    await new Promise((resolve) => setTimeout(resolve, 300));
    fresh.engine.flush();
    expect(fresh.store.getState().activeProject).toBeNull();
    expect(fresh.storage.data.has('integration')).toBe(false);
    expect((await serverCopy(user)).status).toBe(404);
  });

  it('reports a rejected token as an error and asks for a new token on each attempt', async () => {
    const user = newUser();
    const a = device(user, { token: async () => 'not-a-jwt' });
    await waitUntil(
      () => a.errors.some((e) => e instanceof ServerRejectedError && e.status === 401),
      10_000,
    );
    expect(a.engine.getSnapshot().syncStatus).toBe('error');
    await waitUntil(() => a.tokenRequests >= 2, 10_000, 'a retry with a fresh token');
    // Local persistence is unaffected.
    a.store.getState().setActiveProject('still-local');
    a.engine.flush();
    expect(a.storage.envelope('integration')?.state.activeProject).toBe('still-local');
  });

  it('keeps working locally while Redis is down and converges on the newest state once it is back', async () => {
    const user = newUser();
    const [a, b] = await twoSyncedDevices(user);
    a.store.getState().setActiveProject('before-outage');
    await waitUntil(() => b.store.getState().activeProject === 'before-outage', 10_000);

    await real.redis.stop();
    a.store.getState().setActiveProject('a-during-outage');
    await new Promise((resolve) => setTimeout(resolve, 20));
    b.store.getState().setActiveProject('b-during-outage-newest');
    const degraded = (d: Device) => () =>
      ['offline', 'error'].includes(d.engine.getSnapshot().syncStatus);
    await waitUntil(degraded(a), 15_000, 'a to report offline or error');
    await waitUntil(degraded(b), 15_000, 'b to report offline or error');
    // Both keep persisting locally.
    a.engine.flush();
    b.engine.flush();
    expect(a.storage.envelope('integration')?.state.activeProject).toBe('a-during-outage');
    expect(b.storage.envelope('integration')?.state.activeProject).toBe('b-during-outage-newest');

    await real.redis.start();
    const converged = () =>
      a.store.getState().activeProject === 'b-during-outage-newest' &&
      b.store.getState().activeProject === 'b-during-outage-newest';
    await waitUntil(converged, 20_000, 'both devices to converge on the newest state');
    await waitUntil(() => synced(a)() && synced(b)(), 20_000, 'both synced again');
    await waitUntilServerHas(user, 'b-during-outage-newest');
  }, 60_000);

  // Needs the server to send `{"type":"status","store":"down"|"up"}` (issue 10, server half).
  it('an idle device reports offline when Redis is lost, with no change of its own, and synced once it is back', async () => {
    const user = newUser();
    const a = await syncedDevice(user);
    a.store.getState().setActiveProject('before-outage');
    await waitUntilServerHas(user, 'before-outage');
    await waitUntil(synced(a), 10_000, 'a synced');

    await real.redis.stop();
    await waitUntil(() => a.engine.getSnapshot().syncStatus === 'offline', 5000, 'a offline');
    await real.redis.start();
    await waitUntil(synced(a), 20_000, 'a synced again');
    // Nothing was refused or lost: the outage was reported as a status, not as an error.
    expect(a.errors).toEqual([]);
    expect(a.store.getState().activeProject).toBe('before-outage');
  }, 60_000);
});

async function waitUntilServerHas(userId: string, activeProject: string): Promise<void> {
  const deadline = Date.now() + 10_000;
  for (;;) {
    const copy = await serverCopy(userId);
    const stored = copy.body as { state?: { activeProject?: string } } | null;
    if (stored?.state?.activeProject === activeProject) return;
    if (Date.now() > deadline)
      throw new Error(`server never stored ${activeProject}: ${JSON.stringify(copy)}`);
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}
