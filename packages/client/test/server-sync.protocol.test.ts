// The client's side of the socket protocol, against a scripted server (real sockets).
import { once } from 'node:events';
import { CloseCode } from '@hyvve/schema';
import { describe, expect, it } from 'vitest';
import { WebSocket } from 'ws';
import { makeState } from '../../../test-support/fixtures.js';
import {
  AUTH_FAILED_CLOSE_CODE,
  clearPersistedState,
  createDashboardStore,
  type DashboardStoreApi,
  type FetchLike,
  InvalidPersistedStateError,
  type PersistenceError,
  type PersistenceLogger,
  ServerRejectedError,
  type ServerSyncOptions,
  ServerUnreachableError,
  STALLED_CLOSE_CODE,
  type StatePersistence,
  type StatePersistenceOptions,
  TokenError,
} from './support/client.js';
import {
  countingFetch,
  fakeLifecycle,
  latch,
  SpyStorage,
  storageHolding,
  waitUntil,
} from './support/fakes.js';
import { setUpScriptedServer } from './support/scripted-client.js';
import type { ScriptedSocket } from './support/scripted-server.js';

const scripted = setUpScriptedServer();

interface Client {
  store: DashboardStoreApi;
  storage: SpyStorage;
  engine: StatePersistence;
  errors: PersistenceError[];
  tokens: number;
  lifecycle: ReturnType<typeof fakeLifecycle>;
}

function client(
  serverOptions: Partial<ServerSyncOptions> = {},
  options: StatePersistenceOptions = {},
): Client {
  const store = createDashboardStore();
  const storage = options.storage instanceof SpyStorage ? options.storage : new SpyStorage();
  const errors: PersistenceError[] = [];
  const lifecycle = fakeLifecycle();
  const self = { store, storage, errors, tokens: 0, lifecycle } as Client;
  self.engine = scripted.createEngine(
    store,
    {
      storageKey: 'protocol',
      lifecycle,
      onError: (error) => errors.push(error),
      ...options,
      storage,
    },
    {
      getToken: () => {
        self.tokens += 1;
        return `token-${self.tokens}`;
      },
      ackTimeoutMs: 1000,
      readyTimeoutMs: 1000,
      ...serverOptions,
    },
  );
  self.engine.start();
  return self;
}

const status = (c: Client) => c.engine.getSnapshot().syncStatus;
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Accepts connection `index` at `revision` and waits until the client reports synced. */
async function connectSynced(c: Client, index = 0, revision = 0): Promise<ScriptedSocket> {
  const conn = await scripted.server.ready(index, revision);
  await waitUntil(() => status(c) === 'synced');
  return conn;
}

/** Drops the socket the way a server going away does, and waits for the client to notice. */
async function goOffline(c: Client, conn: ScriptedSocket): Promise<void> {
  conn.close(1001, 'going away');
  await waitUntil(() => status(c) === 'offline');
}

/** Calls resetServerCopy() and waits for the delete it sends; `cleared` settles with the answer. */
async function clearSent(
  c: Client,
  conn: ScriptedSocket,
): Promise<{ cleared: ReturnType<StatePersistence['resetServerCopy']>; del: Request }> {
  const cleared = c.engine.resetServerCopy();
  return { cleared, del: await conn.next('delete') };
}

/** Changes the active project and acknowledges its save at `revision`. */
async function saveAcknowledged(
  c: Client,
  conn: ScriptedSocket,
  activeProject: string,
  revision: number,
): Promise<void> {
  c.store.getState().setActiveProject(activeProject);
  sendSaved(conn, await conn.next('save'), revision);
}

describe('server sync protocol', () => {
  it("acts on the server's close codes (socket.ts writes them as numbers, not via CloseCode)", () => {
    expect(AUTH_FAILED_CLOSE_CODE).toBe(CloseCode.unauthorized);
    expect(STALLED_CLOSE_CODE).toBe(CloseCode.stalled);
  });

  it('authenticates with the first message and reports synced after ready', async () => {
    const c = client();
    expect(status(c)).toBe('connecting');
    const conn = await scripted.server.connection(0);
    expect(conn.requestUrl).toBe('/api/dashboard/state/subscribe?patches=1');
    expect(await conn.next('auth')).toEqual({ type: 'auth', token: 'token-1' });
    conn.send({ type: 'ready', revision: 0 });
    await waitUntil(() => status(c) === 'synced');
    expect(conn.count('save')).toBe(0);
  });

  it('sends a synchronous burst of changes as one save of the last state, tagged with its origin', async () => {
    const c = client();
    const conn = await connectSynced(c);
    for (let i = 0; i < 20; i++) c.store.getState().setActiveProject(`p${i}`);
    const save = await conn.next('save');
    await sleep(150);
    expect(conn.count('save')).toBe(1);
    expect(save).toMatchObject({ origin: 'client-origin', state: { activeProject: 'p19' } });
    expect(save.state).toMatchObject({ loading: { isLoading: false }, errors: {} });
  });

  it('keeps one save in flight and sends the latest state after the answer', async () => {
    const c = client();
    const conn = await scripted.server.ready(0);
    c.store.getState().setActiveProject('first');
    const first = await conn.next('save');
    c.store.getState().setActiveProject('second');
    await sleep(200);
    expect(conn.count('save')).toBe(1);
    sendSaved(conn, first, 1, 123);
    const second = await conn.next('save', 1);
    expect(second).toMatchObject({ state: { activeProject: 'second' } });
    sendSaved(conn, second, 2, 456);
    await waitUntil(() => c.engine.getSnapshot().lastSavedAt === 456);
  });

  it('adopts the stored state a 409 conflict returns when it is newer', async () => {
    const c = client();
    const conn = await scripted.server.ready(0);
    c.store.getState().setActiveProject('mine');
    const save = await conn.next('save');
    const current = makeState({ activeProject: 'theirs', timestamp: Date.now() + 60_000 });
    sendConflict(conn, save, current);
    await waitUntil(() => c.store.getState().activeProject === 'theirs');
    expect(status(c)).toBe('synced');
    expect(c.errors).toEqual([]);
  });

  it('keeps a newer broadcast when the 409 it overtook names an older stored state', async () => {
    const c = client();
    const conn = await scripted.server.ready(0);
    c.store.getState().setActiveProject('mine');
    const save = await conn.next('save');
    sendState(conn, 8, makeState({ activeProject: 'newest', timestamp: Date.now() + 120_000 }));
    await waitUntil(() => c.store.getState().activeProject === 'newest');
    sendConflict(
      conn,
      save,
      makeState({ activeProject: 'older', timestamp: Date.now() + 60_000 }),
      7,
    );
    await sleep(150);
    expect(c.store.getState().activeProject).toBe('newest');
    expect(status(c)).toBe('synced');
    expect(conn.count('save')).toBe(1);
  });

  it('merges a 409 with its local change and saves the result on the revision it merged with', async () => {
    const c = client();
    const conn = await scripted.server.ready(0);
    c.store.getState().setActiveProject('mine');
    const save = await conn.next('save');
    const current = makeState({ activeProject: null, timestamp: Date.now() - 60_000 });
    sendConflict(conn, save, current);
    const again = await conn.next('save', 1);
    // Its project choice (changed on this side only) and the stored widgets, together.
    expect(again).toMatchObject({ baseRevision: 7, state: { activeProject: 'mine' } });
    expect((again.state as typeof current).widgets).toEqual(current.widgets);
    expect(c.store.getState().widgets.alerts).toEqual(current.widgets.alerts);
  });

  it('lets a 409 copy based on a later revision win a field both changed, whatever the clocks', async () => {
    // Synced at revision 3 (kept in storage beside the state).
    const storage = storageHolding('protocol', makeState({ activeProject: 'start' }), 3);
    const c = client({}, { storage });
    const conn = await connectSynced(c, 0, 3);
    c.store.getState().setActiveProject('mine');
    const save = await conn.next('save');
    // Stamped a minute earlier, but written on top of revision 6, which this client (at 3)
    // never saw.
    const current = makeState({ activeProject: 'theirs', timestamp: Date.now() - 60_000 });
    sendConflict(conn, save, current);
    await waitUntil(() => c.store.getState().activeProject === 'theirs');
    await waitUntil(() => status(c) === 'synced');
  });

  it('reports a 503 once, shows error, and retries until the save is accepted', async () => {
    const c = client();
    const conn = await scripted.server.ready(0);
    c.store.getState().setActiveProject('x');
    const first = await conn.next('save');
    sendError(conn, first, 503, 'store_unavailable', 'down');
    await waitUntil(() => status(c) === 'error');
    const second = await conn.next('save', 1);
    sendError(conn, second, 503, 'store_unavailable', 'down');
    const third = await conn.next('save', 2);
    sendSaved(conn, third, 1);
    await waitUntil(() => status(c) === 'synced');
    expect(c.errors).toHaveLength(1);
    expect(c.errors[0]).toBeInstanceOf(ServerRejectedError);
  });

  it('reports a rejected state and does not retry it', async () => {
    const c = client();
    const conn = await scripted.server.ready(0);
    c.store.getState().setActiveProject('x');
    const save = await conn.next('save');
    sendError(conn, save, 413, 'state_too_large', 'too big');
    await waitUntil(() => status(c) === 'error');
    await sleep(300);
    expect(conn.count('save')).toBe(1);
    expect((c.errors[0] as ServerRejectedError).status).toBe(413);
  });

  it('retries a save that gets no answer', async () => {
    const c = client({ ackTimeoutMs: 100 });
    const conn = await scripted.server.ready(0);
    c.store.getState().setActiveProject('x');
    await conn.next('save');
    const retry = await conn.next('save', 1, 3000);
    expect(retry).toMatchObject({ state: { activeProject: 'x' } });
    expect(c.errors[0]?.message).toMatch(/no answer/);
  });

  it('ignores the echo of its own save and applies other devices’ states', async () => {
    const c = client();
    const conn = await connectSynced(c);
    sendState(
      conn,
      1,
      makeState({ activeProject: 'echo', timestamp: Date.now() + 60_000 }),
      'client-origin',
    );
    await sleep(50);
    expect(c.store.getState().activeProject).toBeNull();
    conn.send({
      type: 'state',
      state: makeState({ activeProject: 'other', timestamp: Date.now() - 60_000 }),
      revision: 2,
      savedAt: 1,
      origin: 'other-device',
    });
    // Older timestamp, but nothing changed here since the last sync: the server's copy wins.
    await waitUntil(() => c.store.getState().activeProject === 'other');
    await waitUntil(() => c.storage.envelope('protocol')?.state.activeProject === 'other', 3000);
  });

  it('keeps a newer unsynced local change over an older remote one and saves it', async () => {
    const c = client({ saveThrottleMs: 300 });
    const conn = await scripted.server.ready(0);
    c.store.getState().setActiveProject('local-newer');
    sendState(conn, 1, makeState({ activeProject: 'remote-older', timestamp: 1 }), 'other');
    const save = await conn.next('save');
    expect(save).toMatchObject({ state: { activeProject: 'local-newer' } });
    expect(c.store.getState().activeProject).toBe('local-newer');
  });

  it('resets when another device deletes, and ignores its own delete echo', async () => {
    const c = client();
    const conn = await scripted.server.ready(0);
    await saveAcknowledged(c, conn, 'x', 1);
    conn.send({ type: 'deleted', revision: 2, origin: 'client-origin' });
    await sleep(50);
    expect(c.store.getState().activeProject).toBe('x');
    conn.send({ type: 'deleted', revision: 3, origin: 'elsewhere' });
    await waitUntil(() => c.store.getState().activeProject === null);
    expect(c.storage.data.has('protocol')).toBe(false);
    await sleep(200);
    expect(conn.count('save')).toBe(1);
  });

  it('sends a delete and resolves resetServerCopy() with `deleted` when the ack bumps the revision', async () => {
    const c = client();
    const conn = await connectSynced(c, 0, 3);
    const { cleared, del } = await clearSent(c, conn);
    expect(del.origin).toBe('client-origin');
    sendDeleteAck(conn, del, 4);
    expect(await cleared).toEqual({ local: true, server: 'deleted' });
  });

  it('resolves resetServerCopy() with `nothing-stored` when the ack keeps the revision', async () => {
    const c = client();
    const conn = await connectSynced(c, 0, 3);
    // The echo of a delete may come before its ack: the revision at sending decides.
    const { cleared, del } = await clearSent(c, conn);
    sendDeleteAck(conn, del, 3);
    expect(await cleared).toEqual({ local: true, server: 'nothing-stored' });
  });

  it('counts a delete as done when its own echo arrives before the ack', async () => {
    const c = client();
    const conn = await connectSynced(c, 0, 3);
    const { cleared, del } = await clearSent(c, conn);
    conn.send({ type: 'deleted', revision: 4, origin: 'client-origin' });
    sendDeleteAck(conn, del, 4);
    expect(await cleared).toEqual({ local: true, server: 'deleted' });
  });

  it('does not adopt a change broadcast while its delete is unanswered: the clear stands', async () => {
    const c = client();
    const conn = await connectSynced(c, 0, 3);
    await saveAcknowledged(c, conn, 'mine', 4);
    const gets = scripted.server.getRequests;
    const { cleared, del } = await clearSent(c, conn);
    // Another device's save, ordered before this delete by the server.
    sendState(conn, 5, makeState({ activeProject: 'theirs', timestamp: Date.now() + 5000 }));
    sendDeleteAck(conn, del, 6);
    conn.send({ type: 'deleted', revision: 6, origin: 'client-origin' });
    expect(await cleared).toEqual({ local: true, server: 'deleted' });
    await sleep(200);
    expect(c.store.getState().activeProject).toBeNull();
    expect(conn.count('save')).toBe(1); // only 'mine': the cleared state is not stored again
    expect(scripted.server.getRequests).toBe(gets);
  });

  it('fetches a change broadcast after its delete once the delete is answered', async () => {
    const c = client();
    const conn = await connectSynced(c, 0, 3);
    const gets = scripted.server.getRequests;
    const { cleared, del } = await clearSent(c, conn);
    // Ordered after the delete (revision 4): newer than it.
    const theirs = makeState({ activeProject: 'after-delete', timestamp: Date.now() + 5000 });
    sendState(conn, 5, theirs);
    serveState(theirs, 5);
    sendDeleteAck(conn, del, 4);
    expect(await cleared).toEqual({ local: true, server: 'deleted' });
    await waitUntil(() => c.store.getState().activeProject === 'after-delete');
    expect(scripted.server.getRequests).toBe(gets + 1);
  });

  it('rejects resetServerCopy() with the typed error when the delete is refused, and reports it', async () => {
    const c = client();
    const conn = await connectSynced(c);
    await saveAcknowledged(c, conn, 'x', 1);
    const { cleared, del } = await clearSent(c, conn);
    sendError(conn, del, 503, 'store_unavailable', 'down');
    const error = await cleared.then(
      () => null,
      (rejection: unknown) => rejection,
    );
    expect(error).toBeInstanceOf(ServerRejectedError);
    expect((error as ServerRejectedError).status).toBe(503);
    expect(c.errors[0]).toBe(error);
    // The local copies are cleared whatever the server says.
    expect(c.store.getState().activeProject).toBeNull();
    expect(c.storage.data.has('protocol')).toBe(false);
  });

  it('rejects resetServerCopy() and reports it when the delete gets no answer', async () => {
    const c = client({ ackTimeoutMs: 100 });
    const conn = await connectSynced(c);
    const { cleared } = await clearSent(c, conn);
    await expect(cleared).rejects.toThrow(/no answer to delete/);
    expect(c.errors[0]?.message).toMatch(/no answer to delete/);
    expect(c.store.getState().activeProject).toBeNull();
  });

  it('queues a delete asked for while offline and sends it first when the socket is back', async () => {
    const gets = countingFetch();
    const c = client({ fetch: gets.fetch });
    const first = await scripted.server.ready(0);
    await saveAcknowledged(c, first, 'to-delete', 1);
    await waitUntil(() => status(c) === 'synced');
    await goOffline(c, first);

    expect(await c.engine.resetServerCopy()).toEqual({ local: true, server: 'offline-queued' });
    // Meanwhile another device saved: without the delete first, a pull would bring it back.
    serveState(makeState({ activeProject: 'to-delete' }), 2);
    const second = await scripted.server.ready(1, 2);
    const del = await second.next('delete');
    expect(gets.calls).toBe(0);
    sendDeleteAck(second, del, 3);
    await waitUntil(() => status(c) === 'synced');
    expect(gets.calls).toBe(0);
    expect(second.count('save')).toBe(0);
    expect(c.store.getState().activeProject).toBeNull();
  });

  it('sends a delete again after a reconnect when the socket dropped before its answer', async () => {
    const c = client();
    const first = await connectSynced(c, 0, 2);
    const { cleared } = await clearSent(c, first);
    first.close(1001, 'going away');
    expect(await cleared).toEqual({ local: true, server: 'offline-queued' });
    const second = await scripted.server.ready(1, 3);
    const del = await second.next('delete');
    sendDeleteAck(second, del, 3);
    await waitUntil(() => status(c) === 'synced');
  });

  it('retries a queued delete the server refuses for now', async () => {
    const c = client();
    const first = await connectSynced(c, 0, 2);
    await goOffline(c, first);
    expect(await c.engine.resetServerCopy()).toEqual({ local: true, server: 'offline-queued' });
    const second = await scripted.server.ready(1, 2);
    const refused = await second.next('delete');
    sendError(second, refused, 503, 'store_unavailable', 'down');
    await waitUntil(() => status(c) === 'error');
    const again = await second.next('delete', 1, 3000);
    sendDeleteAck(second, again, 3);
    await waitUntil(() => status(c) === 'synced');
    expect(c.errors).toHaveLength(2); // the outage, then the refusal
  });

  it('rejects a delete in flight when the engine stops', async () => {
    const c = client();
    const conn = await connectSynced(c);
    const { cleared } = await clearSent(c, conn);
    c.engine.stop();
    await expect(cleared).rejects.toBeInstanceOf(ServerUnreachableError);
    // A stopped engine reaches no server.
    expect(await c.engine.resetServerCopy()).toEqual({ local: true, server: 'disabled' });
  });

  it('clearPersistedState() sends its pending save, clears locally, deletes nothing and stops syncing', async () => {
    const c = client({ saveThrottleMs: 60_000 });
    const conn = await connectSynced(c, 0, 2);
    await saveAcknowledged(c, conn, 'first', 3);
    c.store.getState().setActiveProject('pending'); // held by the throttle
    expect(await clearPersistedState('protocol')).toEqual({ local: true, server: 'kept' });
    // The pending change was the signed-in person's: it reached their server copy.
    const last = await conn.next('save', 1);
    expect((last.state as { activeProject: string }).activeProject).toBe('pending');
    expect(c.store.getState().activeProject).toBeNull();
    expect(c.storage.data.has('protocol')).toBe(false);
    expect(status(c)).toBe('local-only');
    // The socket is closed: nothing else is sent (no delete, not the cleared state).
    if (conn.socket.readyState !== conn.socket.CLOSED) await once(conn.socket, 'close');
    expect(conn.count('delete')).toBe(0);
    expect(conn.count('save')).toBe(2);
    expect(c.store.getState().activeProject).toBeNull();
  });

  it('ignores a state older than the acknowledged revision of its own newer save', async () => {
    const c = client();
    const seen = projectHistory(c);
    const conn = await connectSynced(c);
    await saveAcknowledged(c, conn, 'mine', 5);
    // Saved at 4 by another device, before this save; its broadcast comes after the ack.
    sendState(conn, 4, makeState({ activeProject: 'older', timestamp: Date.now() + 60_000 }));
    sendPatch(conn, 6, 5, alertAdded(Date.now() + 120_000));
    await waitUntil(() => hasAnAlert(c));
    expect(seen).not.toContain('older');
    expect(c.store.getState().activeProject).toBe('mine');
    expect(scripted.server.getRequests).toBe(0);
  });

  it('ignores a delete older than the acknowledged revision of its own newer save', async () => {
    const c = client();
    const conn = await connectSynced(c);
    await saveAcknowledged(c, conn, 'mine', 5);
    conn.send({ type: 'deleted', revision: 4, origin: 'other-device' });
    sendPatch(conn, 6, 5, alertAdded(Date.now() + 120_000));
    await waitUntil(() => hasAnAlert(c));
    expect(c.store.getState().activeProject).toBe('mine');
  });

  it('takes a state whose revision went back on an open socket (the server store lost its data)', async () => {
    const c = client();
    const conn = await scripted.server.ready(0);
    sendState(conn, 7, makeState({ activeProject: 'seven', timestamp: Date.now() + 1000 }));
    await waitUntil(() => c.store.getState().activeProject === 'seven');
    sendState(conn, 1, makeState({ activeProject: 'one', timestamp: Date.now() + 2000 }));
    await waitUntil(() => c.store.getState().activeProject === 'one');
    sendPatch(conn, 2, 1, alertAdded(Date.now() + 120_000));
    await waitUntil(() => hasAnAlert(c));
    expect(scripted.server.getRequests).toBe(0);
  });

  it('takes the delete a 404 reveals when the server moved past its last sync, instead of restoring', async () => {
    const storage = storageHolding(
      'protocol',
      makeState({ activeProject: 'deleted-elsewhere' }),
      4,
    );
    const c = client({}, { storage });
    // Revision 5 was the delete; the counter survives it, so `ready` says 5 and GET says 404.
    const conn = await scripted.server.ready(0, 5);
    await waitUntil(() => c.store.getState().activeProject === null);
    await waitUntil(() => status(c) === 'synced');
    expect(scripted.server.getRequests).toBe(1);
    expect(conn.count('save')).toBe(0);
    c.engine.flush();
    expect(c.storage.envelope('protocol')?.state.activeProject ?? null).toBeNull();
  });

  it('restores after a 404 only at the revision it knows, so a delete not heard of yet wins', async () => {
    const storage = storageHolding('protocol', makeState({ activeProject: 'zero' }), 1);
    const getHeld = latch();
    const c = client(
      {
        fetch: async (url, init) => {
          await getHeld.opened;
          return fetch(url, init);
        },
      },
      { storage },
    );
    const conn = await scripted.server.ready(0, 2);
    // While the GET waits, a change arrives: this client now holds revision 3.
    sendState(conn, 3, makeState({ activeProject: 'three', timestamp: Date.now() + 60_000 }));
    await waitUntil(() => c.store.getState().activeProject === 'three');
    // The GET is served after a delete (revision 4) whose message is still on its way.
    getHeld.open();
    const restore = await conn.next('save');
    expect(restore).toMatchObject({ baseRevision: 3, state: { activeProject: 'three' } });
    sendError(
      conn,
      restore,
      412,
      'precondition_failed',
      'expected revision 3 but the stored revision is 4',
    );
    conn.send({ type: 'deleted', revision: 4, origin: 'other-device' });
    await waitUntil(() => c.store.getState().activeProject === null);
    await waitUntil(() => status(c) === 'synced');
    expect(conn.count('save')).toBe(1);
    expect(c.errors).toEqual([]);
  });

  it('reports malformed server messages and invalid remote states without applying them', async () => {
    const c = client();
    const conn = await connectSynced(c);
    conn.sendRaw('not json');
    conn.send({ type: 'mystery' });
    conn.send({ type: 'state', state: { version: 1 }, revision: 1, savedAt: 1, origin: 'x' });
    await waitUntil(() => c.errors.length === 3);
    expect(c.errors.every((e) => e instanceof InvalidPersistedStateError)).toBe(true);
    expect(c.store.getState().activeProject).toBeNull();
  });

  it('reports an error message that answers no request', async () => {
    const c = client();
    const conn = await scripted.server.ready(0);
    conn.send({ type: 'error', status: 400, error: 'invalid_request', message: 'bad frame' });
    await waitUntil(() => c.errors.length === 1);
    expect(status(c)).toBe('error');
  });

  it('closes and reconnects when ready does not come in time', async () => {
    const c = client({ readyTimeoutMs: 100 });
    const first = await scripted.server.connection(0);
    await first.next('auth');
    const second = await scripted.server.connection(1, 3000);
    await second.next('auth');
    second.send({ type: 'ready', revision: 0 });
    await waitUntil(() => status(c) === 'synced');
    expect(c.errors[0]).toBeInstanceOf(ServerUnreachableError);
  });

  it('goes offline when the socket drops, reconnects with a fresh token and pushes what changed', async () => {
    const c = client();
    const first = await connectSynced(c);
    first.close(1001, 'going away');
    await waitUntil(() => status(c) === 'offline' || status(c) === 'connecting');
    c.store.getState().setActiveProject('while-offline');
    const second = await scripted.server.connection(1, 3000);
    expect(await second.next('auth')).toEqual({ type: 'auth', token: 'token-2' });
    second.send({ type: 'ready', revision: 0 });
    const save = await second.next('save');
    expect(save).toMatchObject({ state: { activeProject: 'while-offline' } });
    c.engine.flush();
    expect(c.storage.envelope('protocol')?.state.activeProject).toBe('while-offline');
  });

  it('reports a refused token (4401) as an error', async () => {
    const c = client();
    const conn = await scripted.server.connection(0);
    await conn.next('auth');
    conn.close(4401, 'invalid token');
    await waitUntil(() =>
      c.errors.some((e) => e instanceof ServerRejectedError && e.status === 401),
    );
    expect(status(c)).toBe('error');
  });

  it('reports a failing getToken and retries', async () => {
    let calls = 0;
    const c = client({
      getToken: () => {
        calls += 1;
        if (calls === 1) throw new Error('session expired');
        return 'good-token';
      },
    });
    await waitUntil(() => c.errors.length === 1);
    expect(c.errors[0]).toBeInstanceOf(TokenError);
    const conn = await scripted.server.connection(0, 3000);
    expect(await conn.next('auth')).toEqual({ type: 'auth', token: 'good-token' });
  });

  it('reports a socket that cannot be created and retries', async () => {
    let calls = 0;
    const c = client({
      createWebSocket: (url) => {
        calls += 1;
        if (calls === 1) throw new Error('blocked by CSP');
        return new WebSocket(url);
      },
    });
    await connectSynced(c);
    expect(c.errors[0]).toBeInstanceOf(ServerUnreachableError);
  });

  it('reconnects at once when the browser comes back online', async () => {
    const c = client({ reconnect: { initialDelayMs: 60_000, maxDelayMs: 60_000 } });
    const first = await connectSynced(c);
    first.socket.terminate();
    await waitUntil(() => status(c) === 'offline');
    c.lifecycle.window.online();
    await connectSynced(c, 1);
  });

  it('sends the save held by the throttle on pagehide and on stop', async () => {
    const c = client({ saveThrottleMs: 60_000 });
    const conn = await connectSynced(c);
    // The first change leaves at once; the next waits for the interval...
    await saveAcknowledged(c, conn, 'first', 1);
    await waitUntil(() => status(c) === 'synced');
    c.store.getState().setActiveProject('closing');
    await sleep(100);
    expect(conn.count('save')).toBe(1);
    // ...unless the page closes.
    c.lifecycle.window.pagehide();
    const save = await conn.next('save', 1, 1000);
    expect(save).toMatchObject({ state: { activeProject: 'closing' } });
    sendSaved(conn, save, 2);
    await waitUntil(() => status(c) === 'synced');
    c.store.getState().setActiveProject('stopping');
    await sleep(100);
    expect(conn.count('save')).toBe(2);
    c.engine.stop();
    c.engine.stop();
    expect(await conn.next('save', 2, 1000)).toMatchObject({
      state: { activeProject: 'stopping' },
    });
  });

  describe('on ready', () => {
    it('pulls when the server has a newer revision and adopts it over an unchanged local state', async () => {
      serveState(makeState({ activeProject: 'pulled', timestamp: Date.now() - 60_000 }), 3, 1);
      const c = client();
      await scripted.server.ready(0, 3);
      await waitUntil(() => c.store.getState().activeProject === 'pulled');
      await waitUntil(() => status(c) === 'synced');
      expect(scripted.server.lastAuthorization).toBe('Bearer token-2');
    });

    it('pushes a non-empty local state when the server lost its copy', async () => {
      const storage = storageHolding('protocol', makeState({ activeProject: 'kept' }), 9);
      const c = client({}, { storage });
      const conn = await scripted.server.ready(0, 2);
      const save = await conn.next('save');
      expect(save).toMatchObject({ state: { activeProject: 'kept' } });
      sendSaved(conn, save, 3, 1);
      await waitUntil(() => status(c) === 'synced');
    });

    it('does nothing when the stored revision matches and nothing changed', async () => {
      const storage = storageHolding('protocol', makeState({ activeProject: 'same' }), 4);
      const c = client({}, { storage });
      const conn = await connectSynced(c, 0, 4);
      await sleep(200);
      expect(conn.count('save')).toBe(0);
      expect(scripted.server.getRequests).toBe(0);
    });

    it('reports a failed pull, shows error and retries it', async () => {
      scripted.server.getAnswer = {
        status: 500,
        body: { error: 'internal_error', message: 'boom' },
      };
      const c = client();
      await scripted.server.ready(0, 3);
      await waitUntil(() => status(c) === 'error');
      expect((c.errors[0] as ServerRejectedError).status).toBe(500);
      serveState(makeState({ activeProject: 'later' }), 3, 1);
      await waitUntil(() => c.store.getState().activeProject === 'later', 3000);
      await waitUntil(() => status(c) === 'synced');
    });

    it('reports a pull answer that is not a stored state', async () => {
      scripted.server.getAnswer = {
        status: 200,
        body: { state: { version: 1 }, revision: 3, savedAt: 1 },
      };
      const c = client();
      await scripted.server.ready(0, 3);
      await waitUntil(() => c.errors.length > 0);
      expect(c.errors[0]).toBeInstanceOf(InvalidPersistedStateError);
    });

    it('reports a pull that cannot reach the server', async () => {
      const c = client({
        fetch: () => Promise.reject(new TypeError('fetch failed')),
      });
      await scripted.server.ready(0, 3);
      await waitUntil(() => c.errors.length > 0);
      expect(c.errors[0]).toBeInstanceOf(ServerUnreachableError);
    });
  });
});
const anAlert = { id: 'a1', type: 'info', title: 'T', message: 'M', timestamp: 1 };

/** The patch adding `anAlert`, as a change made at `timestamp`. */
const alertAdded = (timestamp: number) => [
  { op: 'replace', path: '/timestamp', value: timestamp },
  { op: 'add', path: '/widgets/alerts/0', value: anAlert },
];

const hasAnAlert = (c: Client): boolean =>
  c.store.getState().widgets.alerts.some((alert) => alert.id === anAlert.id);

/** Every active project the store held, in order. */
function projectHistory(c: Client): Array<string | null> {
  const seen: Array<string | null> = [];
  c.store.subscribe((state) => seen.push(state.activeProject));
  return seen;
}

/**
 * The real fetch, counting its calls; an answer for which `holdsAnswer(calls made so far)`
 * is true waits for `release()`.
 */
function heldFetch(holdsAnswer: (calls: number) => boolean): {
  fetch: FetchLike;
  readonly calls: number;
  release(): void;
} {
  const answers = latch();
  const held = {
    calls: 0,
    release: answers.open,
    fetch: (async (url, init) => {
      held.calls += 1;
      const response = await fetch(url, init);
      if (holdsAnswer(held.calls)) await answers.opened;
      return response;
    }) as FetchLike,
  };
  return held;
}

/** A logger that records event names by level. */
function recordingLogger(): PersistenceLogger & { events: Record<'debug' | 'warn', string[]> } {
  const events = { debug: [] as string[], warn: [] as string[] };
  return {
    events,
    debug: (event) => events.debug.push(event),
    warn: (event) => events.warn.push(event),
    error() {},
  };
}

/** A client message as the scripted server received it. */
type Request = Record<string, unknown>;

/** Acknowledges a save (`saved`) at `revision`. */
function sendSaved(
  conn: ScriptedSocket,
  request: Request,
  revision: number,
  savedAt = revision,
): void {
  conn.send({ type: 'saved', id: request.id, revision, savedAt });
}

function sendDeleteAck(conn: ScriptedSocket, request: Request, revision: number): void {
  conn.send({ type: 'delete-ack', id: request.id, revision });
}

function sendError(
  conn: ScriptedSocket,
  request: Request,
  status: number,
  error: string,
  message: string,
): void {
  conn.send({ type: 'error', id: request.id, status, error, message });
}

/** Answers a save with 409 and the stored state it lost to. */
function sendConflict(
  conn: ScriptedSocket,
  save: Request,
  current: ReturnType<typeof makeState>,
  revision = 7,
): void {
  conn.send({
    type: 'error',
    id: save.id,
    status: 409,
    error: 'conflict',
    message: 'newer stored',
    current: { state: current, revision, savedAt: 1 },
  });
}

/** What GET /api/dashboard/state answers from now on. */
function serveState(
  state: ReturnType<typeof makeState>,
  revision: number,
  savedAt = revision,
): void {
  scripted.server.getAnswer = { status: 200, body: { state, revision, savedAt } };
}

function sendState(
  conn: ScriptedSocket,
  revision: number,
  state: ReturnType<typeof makeState>,
  origin = 'other-device',
): void {
  conn.send({ type: 'state', state, revision, savedAt: revision, origin });
}

function sendPatch(
  conn: ScriptedSocket,
  revision: number,
  baseRevision: number,
  patch: Array<Record<string, unknown>>,
  origin = 'other-device',
): void {
  conn.send({ type: 'patch', revision, baseRevision, savedAt: revision, origin, patch });
}

/** The patch a change of the active project at `timestamp` produces on the server. */
const projectChange = (activeProject: string, timestamp: number) => [
  { op: 'replace', path: '/timestamp', value: timestamp },
  { op: 'replace', path: '/activeProject', value: activeProject },
];

describe('server patches', () => {
  const t0 = Date.now() + 60_000;
  const project = (c: Client) => c.store.getState().activeProject;

  /** Sends another device's whole state at `revision` and waits until the client took it. */
  async function receiveState(
    c: Client,
    conn: ScriptedSocket,
    revision: number,
    activeProject: string,
  ): Promise<void> {
    sendState(conn, revision, makeState({ activeProject, timestamp: t0 }));
    await waitUntil(() => project(c) === activeProject);
  }

  it('applies a patch to the state it holds at the base revision, and the next to the result', async () => {
    const gets = countingFetch();
    const c = client({ fetch: gets.fetch });
    const conn = await connectSynced(c);
    sendState(conn, 1, makeState({ activeProject: 'one', timestamp: t0 }));
    sendPatch(conn, 2, 1, projectChange('two', t0 + 1));
    await waitUntil(() => project(c) === 'two');
    sendPatch(conn, 3, 2, [
      { op: 'replace', path: '/timestamp', value: t0 + 2 },
      { op: 'replace', path: '/widgets/metrics/metrics/0/value', value: 99 },
    ]);
    await waitUntil(() => c.store.getState().widgets.metrics?.metrics[0]?.value === 99);
    expect(project(c)).toBe('two');
    expect(c.store.getState().timestamp).toBe(t0 + 2);
    expect(gets.calls).toBe(0);
    expect(c.errors).toEqual([]);
    await waitUntil(() => c.storage.envelope('protocol')?.revision === 3, 3000);
  });

  it('fetches the full state once when a patch names another base, then builds on it', async () => {
    const gets = countingFetch();
    const log = recordingLogger();
    const c = client({ fetch: gets.fetch }, { debug: log });
    const conn = await scripted.server.ready(0);
    await receiveState(c, conn, 1, 'one');
    serveState(makeState({ activeProject: 'fetched', timestamp: t0 + 5 }), 5);
    sendPatch(conn, 5, 4, projectChange('never-applied', t0 + 5));
    await waitUntil(() => project(c) === 'fetched');
    expect(gets.calls).toBe(1);
    expect(log.events.debug).toContain('server.patch_refetch');
    sendPatch(conn, 6, 5, projectChange('six', t0 + 6));
    await waitUntil(() => project(c) === 'six');
    expect(gets.calls).toBe(1);
    expect(c.errors).toEqual([]);
  });

  it.each([
    ['does not apply to its base', [{ op: 'remove', path: '/widgets/missing' }]],
    [
      'yields an invalid state',
      [{ op: 'replace', path: '/widgets/metrics', value: 'not a widget' }],
    ],
  ])('fetches the full state when a patch %s', async (_, patch) => {
    const gets = countingFetch();
    const log = recordingLogger();
    const c = client({ fetch: gets.fetch }, { debug: log });
    const conn = await scripted.server.ready(0);
    await receiveState(c, conn, 1, 'one');
    serveState(makeState({ activeProject: 'fetched', timestamp: t0 + 1 }), 2);
    sendPatch(conn, 2, 1, patch);
    await waitUntil(() => project(c) === 'fetched');
    expect(gets.calls).toBe(1);
    expect(log.events.warn).toEqual(['server.patch_failed_refetch']);
    // A bad patch is the sync layer's problem, solved by the GET: nothing for the app.
    expect(c.errors).toEqual([]);
  });

  it('ignores the echo of its own save sent as a patch, and builds on the save’s ack', async () => {
    const gets = countingFetch();
    const c = client({ fetch: gets.fetch });
    const conn = await connectSynced(c);
    c.store.getState().setActiveProject('mine');
    const save = await conn.next('save');
    // The echo may come before the ack. It would need a base the client does not hold.
    sendPatch(conn, 1, 0, projectChange('echo', t0), 'client-origin');
    sendSaved(conn, save, 1);
    sendPatch(conn, 2, 1, alertAdded(t0 + 1));
    await waitUntil(() => c.store.getState().widgets.alerts.length === 1);
    expect(project(c)).toBe('mine');
    expect(gets.calls).toBe(0);
    expect(c.errors).toEqual([]);
  });

  it('ignores a patch for a revision it already knows', async () => {
    const gets = countingFetch();
    const c = client({ fetch: gets.fetch });
    const conn = await scripted.server.ready(0);
    sendState(conn, 2, makeState({ activeProject: 'two', timestamp: t0 }));
    sendPatch(conn, 2, 1, projectChange('duplicate', t0 + 1));
    sendPatch(conn, 3, 2, projectChange('three', t0 + 2));
    await waitUntil(() => project(c) === 'three');
    expect(gets.calls).toBe(0);
  });

  it('holds no base after a delete: a later patch is answered with a GET', async () => {
    const gets = countingFetch();
    const c = client({ fetch: gets.fetch });
    const conn = await scripted.server.ready(0);
    await receiveState(c, conn, 1, 'one');
    conn.send({ type: 'deleted', revision: 2, origin: 'other-device' });
    await waitUntil(() => project(c) === null);
    serveState(makeState({ activeProject: 'fetched', timestamp: t0 + 2 }), 3);
    // Built on revision 1: applying it to the copy from before the delete would be wrong.
    sendPatch(conn, 3, 1, projectChange('stale-base', t0 + 2));
    await waitUntil(() => project(c) === 'fetched');
    expect(gets.calls).toBe(1);
  });

  it('keeps one GET in flight: patches arriving meanwhile cause one more, not one each', async () => {
    const gets = heldFetch((calls) => calls === 1);
    const log = recordingLogger();
    const c = client({ fetch: gets.fetch }, { debug: log });
    const conn = await connectSynced(c);
    serveState(makeState({ activeProject: 'three', timestamp: t0 + 3 }), 3);
    sendPatch(conn, 3, 2, projectChange('x', t0 + 3));
    await waitUntil(() => gets.calls === 1);
    serveState(makeState({ activeProject: 'five', timestamp: t0 + 5 }), 5);
    sendPatch(conn, 4, 3, projectChange('y', t0 + 4));
    sendPatch(conn, 5, 4, projectChange('z', t0 + 5));
    await waitUntil(
      () => log.events.debug.filter((e) => e === 'server.patch_refetch').length === 3,
    );
    gets.release();
    await waitUntil(() => project(c) === 'five');
    expect(gets.calls).toBe(2);
  });

  it('drops a GET answer older than a state the socket delivered meanwhile', async () => {
    const gets = heldFetch(() => true);
    const log = recordingLogger();
    const c = client({ fetch: gets.fetch }, { debug: log });
    const conn = await connectSynced(c);
    serveState(makeState({ activeProject: 'two', timestamp: t0 + 2 }), 2);
    sendPatch(conn, 2, 1, projectChange('x', t0 + 2));
    await waitUntil(() => gets.calls === 1);
    sendState(conn, 3, makeState({ activeProject: 'three', timestamp: t0 + 3 }));
    await waitUntil(() => project(c) === 'three');
    gets.release();
    await waitUntil(() => log.events.debug.includes('server.pull_stale'));
    expect(project(c)).toBe('three');
    expect(gets.calls).toBe(1);
  });

  it('forgets its copy when the server’s revisions start again', async () => {
    const gets = countingFetch();
    const c = client({ fetch: gets.fetch });
    const first = await scripted.server.ready(0);
    await receiveState(c, first, 7, 'seven');
    first.close(1001, 'restart');
    // The store lost its data and the first save after it is revision 1.
    serveState(makeState({ activeProject: 'one', timestamp: t0 + 1 }), 1);
    await scripted.server.ready(1, 1);
    await waitUntil(() => project(c) === 'one');
    expect(gets.calls).toBe(1);
  });

  it('subscribes with patches=1 and keeps the configured query string on both endpoints', async () => {
    const c = client({ url: `${scripted.server.url}/?tenant=t1` });
    const conn = await scripted.server.ready(0, 2);
    expect(conn.requestUrl).toBe('/api/dashboard/state/subscribe?tenant=t1&patches=1');
    await waitUntil(() => status(c) === 'synced');
    expect(scripted.server.lastRequestUrl).toBe('/api/dashboard/state?tenant=t1');
  });
});
