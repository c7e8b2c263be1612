// How the client follows what the server says about itself, against a scripted server
// (real sockets): store status (`down`/`up`), a stalled-socket close (4408), and a new
// store epoch on `ready`.
import { describe, expect, it } from 'vitest';
import { makeState } from '../../../test-support/fixtures.js';
import {
  createDashboardStore,
  type DashboardStoreApi,
  type PersistenceError,
  type ServerSyncOptions,
  type StatePersistence,
  type StatePersistenceOptions,
  type SyncStatus,
} from '../src/index.js';
import { fakeLifecycle, SpyStorage, storageHolding, waitUntil } from './support/fakes.js';
import { setUpScriptedServer } from './support/scripted-client.js';
import type { ScriptedSocket } from './support/scripted-server.js';

const scripted = setUpScriptedServer();

interface Client {
  store: DashboardStoreApi;
  engine: StatePersistence;
  errors: PersistenceError[];
  /** Every status the engine reported, in order. */
  statuses: SyncStatus[];
}

function client(
  serverOptions: Partial<ServerSyncOptions> = {},
  options: StatePersistenceOptions = {},
): Client {
  const store = createDashboardStore();
  const errors: PersistenceError[] = [];
  const engine = scripted.createEngine(
    store,
    {
      storageKey: 'resync',
      lifecycle: fakeLifecycle(),
      onError: (error) => errors.push(error),
      storage: new SpyStorage(),
      ...options,
    },
    { ackTimeoutMs: 2000, readyTimeoutMs: 2000, ...serverOptions },
  );
  const statuses: SyncStatus[] = [];
  engine.subscribe(() => {
    const status = engine.getSnapshot().syncStatus;
    if (statuses.at(-1) !== status) statuses.push(status);
  });
  engine.start();
  return { store, engine, errors, statuses };
}

const status = (c: Client) => c.engine.getSnapshot().syncStatus;
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

async function connectSynced(c: Client, index = 0, revision = 0, epoch?: string) {
  const conn = await scripted.server.connection(index);
  await conn.next('auth');
  conn.send({ type: 'ready', revision, ...(epoch === undefined ? {} : { epoch }) });
  await waitUntil(() => status(c) === 'synced');
  return conn;
}

function ack(conn: ScriptedSocket, save: Record<string, unknown>, revision: number): void {
  conn.send({ type: 'saved', id: save.id, revision, savedAt: revision });
}

describe('store status', () => {
  it('reports offline on `down` with no user action, and synced again on `up`', async () => {
    const c = client();
    const conn = await connectSynced(c);
    conn.send({ type: 'status', store: 'down' });
    await waitUntil(() => status(c) === 'offline');
    conn.send({ type: 'status', store: 'up' });
    await waitUntil(() => status(c) === 'synced');
    expect(c.errors).toEqual([]);
  });

  it('holds changes while the store is down and sends the latest once it is up', async () => {
    const c = client();
    const conn = await connectSynced(c);
    conn.send({ type: 'status', store: 'down' });
    await waitUntil(() => status(c) === 'offline');
    c.store.getState().setActiveProject('during-outage');
    c.store.getState().setActiveProject('latest');
    await sleep(300);
    expect(conn.count('save')).toBe(0);
    expect(status(c)).toBe('offline');
    conn.send({ type: 'status', store: 'up' });
    const save = await conn.next('save');
    expect(save).toMatchObject({ state: { activeProject: 'latest' } });
    // `synced` only once the server took it.
    expect(status(c)).not.toBe('synced');
    ack(conn, save, 1);
    await waitUntil(() => status(c) === 'synced');
  });

  it('does not call itself synced while the store is down, even when a save in flight is answered', async () => {
    const c = client();
    const conn = await connectSynced(c);
    c.store.getState().setActiveProject('in-flight');
    const save = await conn.next('save');
    conn.send({ type: 'status', store: 'down' });
    await waitUntil(() => status(c) === 'offline');
    ack(conn, save, 1);
    await sleep(200);
    expect(status(c)).toBe('offline');
  });

  it('takes a 503 for a save sent before `down` quietly, and sends it again on `up`', async () => {
    const c = client();
    const conn = await connectSynced(c);
    c.store.getState().setActiveProject('in-flight');
    const save = await conn.next('save');
    conn.send({ type: 'status', store: 'down' });
    conn.send({
      type: 'error',
      id: save.id,
      status: 503,
      error: 'store_unavailable',
      message: 'store unavailable',
    });
    await waitUntil(() => status(c) === 'offline');
    await sleep(200);
    expect(status(c)).toBe('offline');
    expect(c.errors).toEqual([]);
    conn.send({ type: 'status', store: 'up' });
    const again = await conn.next('save', 1);
    expect(again).toMatchObject({ state: { activeProject: 'in-flight' } });
    ack(conn, again, 1);
    await waitUntil(() => status(c) === 'synced');
  });

  it('pulls on `up` when the server moved on meanwhile', async () => {
    const remote = makeState({ activeProject: 'from-elsewhere', timestamp: Date.now() + 1000 });
    scripted.server.getAnswer = { status: 200, body: { state: remote, revision: 4, savedAt: 4 } };
    const c = client();
    const conn = await connectSynced(c);
    conn.send({ type: 'status', store: 'down' });
    await waitUntil(() => status(c) === 'offline');
    // Another instance stored changes; this one hears the revision once it is back.
    conn.send({ type: 'ready', revision: 4 });
    conn.send({ type: 'status', store: 'up' });
    await waitUntil(() => c.store.getState().activeProject === 'from-elsewhere');
    await waitUntil(() => status(c) === 'synced');
  });
});

describe('stalled socket (4408)', () => {
  it('reconnects at once, without the backoff, and resyncs', async () => {
    // A backoff this long would fail the test if it applied.
    const c = client({ reconnect: { initialDelayMs: 60_000, maxDelayMs: 60_000 } });
    const first = await connectSynced(c, 0, 2);
    const remote = makeState({ activeProject: 'missed', timestamp: Date.now() + 1000 });
    scripted.server.getAnswer = { status: 200, body: { state: remote, revision: 7, savedAt: 7 } };
    first.close(4408, 'stalled');
    await connectSynced(c, 1, 7);
    expect(c.store.getState().activeProject).toBe('missed');
    expect(c.statuses).not.toContain('offline');
    expect(c.errors).toEqual([]);
  });

  it('keeps the backoff for other closes', async () => {
    const c = client({ reconnect: { initialDelayMs: 60_000, maxDelayMs: 60_000 } });
    const first = await connectSynced(c);
    first.close(1011, 'server error');
    await waitUntil(() => status(c) === 'offline');
    await sleep(300);
    expect(scripted.server.connections).toHaveLength(1);
  });
});

describe('store epoch', () => {
  it('pushes its state to a server that lost its data (new epoch), though revisions match', async () => {
    const storage = storageHolding('resync', makeState({ activeProject: 'kept' }), 3);
    const c = client({}, { storage });
    const first = await connectSynced(c, 0, 3, 'epoch-a');
    expect(first.count('save')).toBe(0);
    // The store was reset and another device already saved 3 times: revision 3 again,
    // other (older) data. Without the epoch, revision 3 would look like nothing changed.
    const other = makeState({ activeProject: 'other-older', timestamp: Date.now() - 60_000 });
    scripted.server.getAnswer = { status: 200, body: { state: other, revision: 3, savedAt: 3 } };
    first.send({ type: 'ready', revision: 3, epoch: 'epoch-b' });
    const save = await first.next('save');
    expect(save).toMatchObject({ state: { activeProject: 'kept' } });
    ack(first, save, 4);
    await waitUntil(() => status(c) === 'synced');
    expect(c.store.getState().activeProject).toBe('kept');
  });

  it('never wipes local state because a new epoch has nothing stored', async () => {
    const storage = storageHolding('resync', makeState({ activeProject: 'kept' }), 3);
    const c = client({}, { storage });
    const conn = await connectSynced(c, 0, 3, 'epoch-a');
    // New epoch, and its counter is already past what this client synced at (a delete
    // in the new epoch would look the same without the epoch): nothing stored.
    scripted.server.getAnswer = {
      status: 404,
      body: { error: 'not_found', message: 'nothing stored' },
    };
    conn.send({ type: 'ready', revision: 5, epoch: 'epoch-b' });
    const save = await conn.next('save');
    expect(save).toMatchObject({ state: { activeProject: 'kept' }, baseRevision: 5 });
    expect(c.store.getState().activeProject).toBe('kept');
  });

  it('takes the newer state a new epoch already holds', async () => {
    const storage = storageHolding(
      'resync',
      makeState({ activeProject: 'old', timestamp: Date.now() - 60_000 }),
      3,
    );
    const c = client({}, { storage });
    const conn = await connectSynced(c, 0, 3, 'epoch-a');
    const remote = makeState({ activeProject: 'newer', timestamp: Date.now() + 1000 });
    scripted.server.getAnswer = { status: 200, body: { state: remote, revision: 3, savedAt: 3 } };
    conn.send({ type: 'ready', revision: 3, epoch: 'epoch-b' });
    await waitUntil(() => c.store.getState().activeProject === 'newer');
    await waitUntil(() => status(c) === 'synced');
    expect(conn.count('save')).toBe(0);
  });

  it('treats the same epoch on a reconnect as the same store', async () => {
    const storage = storageHolding('resync', makeState({ activeProject: 'kept' }), 3);
    const c = client({}, { storage });
    const first = await connectSynced(c, 0, 3, 'epoch-a');
    first.close(1001, 'going away');
    const second = await connectSynced(c, 1, 3, 'epoch-a');
    await sleep(200);
    expect(second.count('save')).toBe(0);
    expect(scripted.server.getRequests).toBe(0);
  });

  it('keeps the epoch beside the revision in storage, and recognises a new one after a reload', async () => {
    const storage = new SpyStorage();
    const first = client({}, { storage });
    const conn = await connectSynced(first, 0, 0, 'epoch-a');
    first.store.getState().setActiveProject('mine');
    ack(conn, await conn.next('save'), 3);
    await waitUntil(() => storage.envelope('resync')?.revision === 3);
    expect(storage.envelope('resync')).toMatchObject({ revision: 3, epoch: 'epoch-a' });
    first.engine.stop();

    // Reload after the store lost its data and another device saved three times: revision
    // 3 again, with older contents. Only the epoch tells the two apart.
    const other = makeState({ activeProject: 'other-older', timestamp: Date.now() - 60_000 });
    scripted.server.getAnswer = { status: 200, body: { state: other, revision: 3, savedAt: 3 } };
    const reloaded = client({}, { storage });
    expect(reloaded.store.getState().activeProject).toBe('mine');
    const again = await scripted.server.connection(1);
    await again.next('auth');
    again.send({ type: 'ready', revision: 3, epoch: 'epoch-b' });
    expect(await again.next('save')).toMatchObject({ state: { activeProject: 'mine' } });
  });

  it('takes the epoch a first save creates, so a reconnect to it is no reset', async () => {
    const c = client();
    const first = await connectSynced(c, 0, 0, '');
    c.store.getState().setActiveProject('first-save');
    const save = await first.next('save');
    first.send({ type: 'saved', id: save.id, revision: 1, savedAt: 1, epoch: 'epoch-a' });
    await waitUntil(() => status(c) === 'synced');
    first.close(1001, 'going away');
    const second = await connectSynced(c, 1, 1, 'epoch-a');
    await sleep(200);
    expect(second.count('save')).toBe(0);
    expect(scripted.server.getRequests).toBe(0);
  });

  it('takes the epoch a second ready names after another device created the counter: no reset, no resync', async () => {
    const c = client();
    const conn = await connectSynced(c, 0, 0, '');
    const other = (activeProject: string, revision: number) =>
      conn.send({
        type: 'state',
        state: makeState({ activeProject, timestamp: Date.now() - 60_000 + revision }),
        revision,
        savedAt: revision,
        origin: 'other-device',
      });
    other('first', 1);
    await waitUntil(() => c.store.getState().activeProject === 'first');
    // The server's channel learned the epoch of the counter that save created.
    conn.send({ type: 'ready', revision: 1, epoch: 'epoch-a' });
    // The next change goes on under it; so does a reconnect.
    other('second', 2);
    await waitUntil(() => c.store.getState().activeProject === 'second');
    await waitUntil(() => status(c) === 'synced');
    await sleep(200);
    expect(conn.count('save')).toBe(0);
    expect(scripted.server.getRequests).toBe(0);
    conn.close(1001, 'going away');
    const again = await connectSynced(c, 1, 2, 'epoch-a');
    await sleep(200);
    expect(again.count('save')).toBe(0);
    expect(scripted.server.getRequests).toBe(0);
    expect(c.store.getState().activeProject).toBe('second');
  });

  it('applies a change that follows a ready naming the learned epoch at the revision before it', async () => {
    // The server's channel learned the epoch before the change that created it was handed
    // to the socket (memory store): its ready names the revision before that change.
    const c = client();
    const conn = await connectSynced(c, 0, 0, '');
    conn.send({ type: 'ready', revision: 0, epoch: 'epoch-a' });
    conn.send({
      type: 'state',
      state: makeState({ activeProject: 'after', timestamp: Date.now() - 60_000 }),
      revision: 1,
      savedAt: 1,
      origin: 'other-device',
    });
    await waitUntil(() => c.store.getState().activeProject === 'after');
    await waitUntil(() => status(c) === 'synced');
    expect(conn.count('save')).toBe(0);
    expect(scripted.server.getRequests).toBe(0);
  });

  it('treats a counter that is gone (epoch back to none) as a reset, and restores its state', async () => {
    const c = client();
    const conn = await connectSynced(c, 0, 0, 'epoch-a');
    c.store.getState().setActiveProject('kept');
    ack(conn, await conn.next('save'), 2);
    await waitUntil(() => status(c) === 'synced');
    // Redis lost everything: no counter, nothing stored.
    conn.send({ type: 'ready', revision: 0, epoch: '' });
    expect(await conn.next('save', 1)).toMatchObject({ state: { activeProject: 'kept' } });
  });
});
