// Live sync with the server over the subscribe socket. Three-way logic: `synced` is the
// content (by reference) last known to equal the server's copy at `syncedRevision`.
// - local unchanged since then + server moved on  -> adopt the server's state;
// - local changed + server unchanged               -> push;
// - both changed                                   -> newer timestamp wins (the server
//   enforces the same rule with 409, whose `current` we adopt).
// Saves are debounced (100 ms, max wait 1 s), one in flight at a time, and always send
// the latest state. While offline the engine keeps persisting locally; `ready` after a
// reconnect pushes whatever changed meanwhile.
//
// The socket asks for `patch` messages (server-url.ts): a change arrives as a delta against
// the previous revision. To apply it the client holds one copy of the server state (from a
// received or patched `state`, a GET, or the ack of its own save) and its revision; a patch
// for another base, or one that does not apply, is answered with a GET of the full state.
// A broadcast older than what the client already knows is ignored (server-revision.ts).
//
// A delete (clear) made while offline waits for the socket: on `ready` it is sent before
// anything else is compared, so the server's copy cannot come back through a pull.
import {
  type DashboardState,
  type MigrationTable,
  migrateDashboardState,
  SERVER_SAVE_DEBOUNCE_MS,
} from '@hyvve/schema';
import type { BackoffOptions } from './backoff.js';
import { backoffDelay } from './backoff.js';
import { type ContentRefs, isEmptyDashboard, isNewer, sameContent } from './content.js';
import { createDebounce } from './debounce.js';
import {
  InvalidPersistedStateError,
  PersistenceError,
  ServerRejectedError,
  ServerUnreachableError,
  TokenError,
} from './errors.js';
import type { PersistenceLogger } from './logger.js';
import { type FetchedState, type FetchLike, fetchStoredState } from './server-api.js';
import {
  type ConnectionStatus,
  createServerConnection,
  type GetToken,
  type IncomingServerMessage,
  type SocketFactory,
} from './server-connection.js';
import { applyServerPatch, type ServerCopy } from './server-patch.js';
import { createServerRevisions } from './server-revision.js';
import { resolveServerEndpoints } from './server-url.js';

export type SyncStatus = 'local-only' | 'connecting' | 'synced' | 'offline' | 'error';

/**
 * What became of the server's copy on a delete: `deleted` (the server removed a stored
 * state), `nothing-stored` (it held none), `offline-queued` (not connected: the delete is
 * sent as soon as the socket is ready again, while this engine runs).
 */
export type RemoteDeleteOutcome = 'deleted' | 'nothing-stored' | 'offline-queued';

/** What the sync layer needs from the engine. */
export interface SyncHost {
  /** The current persistable state, its content refs, and the origin that produced it. */
  current(): { state: DashboardState; refs: ContentRefs; origin: string };
  /** Applies a state from the server; returns the refs now in the store. */
  adopt(state: DashboardState, origin: string): ContentRefs;
  /** Another device deleted the stored state: reset; returns the refs now in the store. */
  remoteDeleted(): ContentRefs;
  status(status: SyncStatus): void;
  /** The server acknowledged a save (server time). */
  saved(savedAt: number): void;
}

export interface ServerSyncOptions {
  /** Base URL of the server (http(s), ws(s), or relative to the page in a browser). */
  url: string;
  /** Returns a fresh token; called before every (re)connect and HTTP read. */
  getToken: GetToken;
  /** @default SERVER_SAVE_DEBOUNCE_MS (100) */
  saveDebounceMs?: number;
  /** A steady stream of changes still reaches the server this often. @default 1000 */
  saveMaxWaitMs?: number;
  /** Reconnect and retry backoff. @default { initialDelayMs: 250, maxDelayMs: 30000 } */
  reconnect?: BackoffOptions;
  /** A save without an answer after this long counts as failed and is retried. @default 10000 */
  ackTimeoutMs?: number;
  /** @default 10000 */
  readyTimeoutMs?: number;
  /** WebSocket factory. @default (url) => new globalThis.WebSocket(url) */
  createWebSocket?: SocketFactory;
  /** fetch, for reading the stored state. @default globalThis.fetch */
  fetch?: FetchLike;
}

export interface ServerSync {
  start(): void;
  /** Sends a pending save now if the socket is open, then closes. Safe to call twice. */
  stop(): void;
  /** Tells the sync layer the local content changed. */
  notifyChange(): void;
  /** Sends a pending save now (if the socket is open). */
  flush(): void;
  /** Marks content as equal to the server's copy (e.g. it came from a tab that saves it). */
  markSynced(refs: ContentRefs, revision?: number): void;
  /** The server revision `refs` is known to be stored at, if any (kept in the envelope). */
  revisionFor(refs: ContentRefs): number | undefined;
  /**
   * Deletes the server copy: resolves once acknowledged, or at once with `offline-queued`
   * when not connected. Rejects with a `ServerRejectedError` when the server refuses it or
   * does not answer in time (also reported to `onError`).
   */
  deleteRemote(): Promise<RemoteDeleteOutcome>;
  /** The browser is back online: retry now instead of waiting for the backoff. */
  reconnectNow(): void;
}

export interface ServerSyncContext {
  origin: string;
  host: SyncHost;
  logger: PersistenceLogger;
  onError: (error: PersistenceError) => void;
  migrations?: MigrationTable;
  pageUrl?: string;
}

const RETRYABLE = new Set([429, 500, 502, 503, 504]);

interface PendingDelete {
  /** The server revision known when it was sent: an ack above it means a state was removed. */
  knownRevision: number;
  /** Sent from the queue: its caller was already told `offline-queued`. */
  queued: boolean;
  timer: ReturnType<typeof setTimeout>;
  resolve(outcome: RemoteDeleteOutcome): void;
  reject(error: PersistenceError): void;
}

const NO_CALLER: Pick<PendingDelete, 'resolve' | 'reject'> = { resolve() {}, reject() {} };

export function createServerSync(
  options: ServerSyncOptions,
  context: ServerSyncContext,
): ServerSync {
  const { origin, host, logger, onError } = context;
  const endpoints = resolveServerEndpoints(options.url, context.pageUrl);
  const createSocket = options.createWebSocket ?? defaultSocketFactory();
  const fetchFn = options.fetch ?? defaultFetch();
  const ackTimeoutMs = options.ackTimeoutMs ?? 10_000;
  const backoff = options.reconnect ?? {};

  let synced: ContentRefs | null = null;
  let syncedRevision: number | undefined;
  /** The server's revision as far as known (ready, broadcasts, answers). */
  const revisions = createServerRevisions();
  /** The base for server patches: one state, the last known to be stored, never a history. */
  let serverCopy: ServerCopy | null = null;
  let inFlight: {
    id: string;
    refs: ContentRefs;
    /** What was sent: once acknowledged, the server's copy at the ack's revision. */
    state: DashboardState;
    timer: ReturnType<typeof setTimeout>;
  } | null = null;
  let rejected: ContentRefs | null = null;
  let seq = 0;
  // Bumped by stop and deleteRemote: a pull that resolves afterwards is dropped.
  let epoch = 0;
  // One GET at a time; a request made meanwhile runs once after it (the answer in flight
  // may predate the change that asked).
  let pulling = false;
  let pullQueued = false;
  let retryTimer: ReturnType<typeof setTimeout> | undefined;
  let retryAttempt = 0;
  let failureReported = false;
  /** Deletes sent and not answered yet. */
  const pendingDeletes = new Map<string, PendingDelete>();
  /** A delete to send once the socket is ready (asked for while offline, or cut off). */
  let deleteQueued = false;

  let stopped = false;
  const unsynced = (): boolean => !sameContent(host.current().refs, synced);

  const succeed = (): void => {
    retryAttempt = 0;
    failureReported = false;
    if (retryTimer !== undefined) clearTimeout(retryTimer);
    retryTimer = undefined;
    host.status('synced');
  };

  const failAndRetry = (error: PersistenceError, retry: boolean): void => {
    if (!failureReported) onError(error);
    failureReported = true;
    host.status('error');
    if (!retry || retryTimer !== undefined) return;
    const delay = backoffDelay(retryAttempt++, backoff);
    logger.debug('server.retry_scheduled', { delayMs: delay });
    retryTimer = setTimeout(() => {
      retryTimer = undefined;
      reconcile();
    }, delay);
  };

  /**
   * Sends the latest state. `force` sends even when it matches the server's copy;
   * `urgent` (page closing) does not wait for the save in flight; `baseRevision` makes the
   * server refuse it (412) unless that is still its revision.
   */
  const sendSave = (force = false, urgent = false, baseRevision?: number): void => {
    if ((inFlight && !urgent) || !connection.isReady()) return;
    const { state, refs } = host.current();
    if (!force && sameContent(refs, synced)) return;
    // The server refused exactly this content (400, 413): sending it again cannot help.
    if (sameContent(refs, rejected)) return;
    const id = `${origin}:${++seq}`;
    const base = baseRevision === undefined ? {} : { baseRevision };
    if (!connection.send({ type: 'save', id, state, origin, ...base })) return;
    // This save carries the latest state: a pending debounced one would repeat it.
    saveDebounce.cancel();
    const timer = setTimeout(() => {
      if (inFlight?.id !== id) return;
      inFlight = null;
      failAndRetry(
        new ServerRejectedError(504, 'timeout', `no answer to save ${id} in ${ackTimeoutMs} ms`),
        true,
      );
    }, ackTimeoutMs);
    if (inFlight) clearTimeout(inFlight.timer);
    inFlight = { id, refs, state, timer };
    logger.debug('server.save_sent', { id, timestamp: state.timestamp });
  };

  /** Page closing or forced save: send what the server lacks now, in flight or not. */
  const sendPendingNow = (): void => {
    const refs = host.current().refs;
    if (!unsynced() || (inFlight && sameContent(refs, inFlight.refs))) return;
    sendSave(false, true);
  };

  const saveDebounce = createDebounce(() => sendSave(), {
    waitMs: options.saveDebounceMs ?? SERVER_SAVE_DEBOUNCE_MS,
    maxWaitMs: options.saveMaxWaitMs ?? 1000,
  });

  const checkState = (raw: unknown, source: string): DashboardState | null => {
    const result = migrateDashboardState(raw, context.migrations);
    if (result.success) return result.data;
    onError(new InvalidPersistedStateError(source, result.error.path, result.error.message));
    return null;
  };

  /** Applies a server copy per the three-way rule; returns whether it was applied. */
  const consider = (remote: FetchedState, remoteOrigin: string): boolean => {
    const local = host.current();
    if (!unsynced() && remote.state.timestamp === local.state.timestamp) {
      // Same content as ours (e.g. a revision bump of what we already have).
      synced = local.refs;
      syncedRevision = remote.revision;
      return false;
    }
    const adopt =
      !unsynced() ||
      isNewer(
        { timestamp: remote.state.timestamp, origin: remoteOrigin },
        {
          timestamp: local.state.timestamp,
          origin: local.origin,
        },
      );
    if (adopt) {
      synced = host.adopt(remote.state, remoteOrigin);
      syncedRevision = remote.revision;
      logger.debug('server.adopted', {
        revision: remote.revision,
        timestamp: remote.state.timestamp,
      });
    }
    return adopt;
  };

  const pull = async (): Promise<void> => {
    const myEpoch = epoch;
    let remote: FetchedState | null;
    try {
      let token: string;
      try {
        token = await options.getToken();
      } catch (error) {
        throw new TokenError(error);
      }
      remote = await fetchStoredState(fetchFn, endpoints.stateUrl, token);
    } catch (error) {
      if (myEpoch !== epoch) return;
      // fetchStoredState only throws PersistenceErrors; anything else is a bug worth seeing.
      if (!(error instanceof PersistenceError)) throw error;
      // An unusable answer will not improve by asking again; an outage or a 5xx may.
      const retry =
        error instanceof ServerUnreachableError ||
        error instanceof TokenError ||
        (error instanceof ServerRejectedError && RETRYABLE.has(error.status));
      failAndRetry(error, retry);
      return;
    }
    if (myEpoch !== epoch || !connection.isReady()) return;
    if (remote && serverCopy && remote.revision < serverCopy.revision) {
      // Served before a change the socket has delivered since: applying it would go back.
      logger.debug('server.pull_stale', {
        revision: remote.revision,
        heldRevision: serverCopy.revision,
      });
      if (!inFlight) succeed();
      return;
    }
    serverCopy = remote && { state: remote.state, revision: remote.revision };
    if (remote === null) {
      serverHoldsNothing();
    } else if (!consider(remote, 'server') && unsynced()) {
      sendSave();
    }
    if (!inFlight) succeed();
  };

  /**
   * A GET found nothing stored. The server keeps its revision counter across a delete (for
   * the TTL), while expiry and data loss leave it at 0 or lower, so:
   * - the server is past the revision this client last synced at: the state was deleted
   *   since. The delete wins, as a `deleted` message would have: reset, push nothing.
   * - otherwise (first use, expiry, data loss): restore the content from here unless it is
   *   empty. The save names the revision it expects; a delete this client has not heard
   *   of yet (its `deleted` message still on the way) moved it, so the server refuses (412)
   *   instead of storing the deleted state again, and that message resets this client.
   */
  const serverHoldsNothing = (): void => {
    const known = revisions.known() ?? 0;
    const deletedSinceSync = syncedRevision !== undefined && known > syncedRevision;
    syncedRevision = known;
    if (isEmptyDashboard(host.current().state)) {
      synced = host.current().refs;
    } else if (deletedSinceSync) {
      logger.debug('server.deleted_since_sync', { revision: known });
      synced = host.remoteDeleted();
    } else {
      sendSave(true, false, known);
    }
  };

  const requestPull = (): void => {
    if (pulling) {
      pullQueued = true;
      return;
    }
    pulling = true;
    void pull().finally(() => {
      pulling = false;
      if (!pullQueued || stopped) return;
      pullQueued = false;
      requestPull();
    });
  };

  /** A full state the server stored at `remote.revision` (broadcast, patched or 409). */
  const receiveState = (remote: FetchedState, remoteOrigin: string): void => {
    serverCopy = { state: remote.state, revision: remote.revision };
    if (!consider(remote, remoteOrigin) && unsynced()) saveDebounce.schedule();
  };

  /** Records a broadcast's revision; false when it is stale (known, or superseded). */
  const takeBroadcast = (type: string, revision: number): boolean => {
    const known = revisions.known();
    const verdict = revisions.broadcast(revision);
    if (verdict === 'stale') {
      logger.debug('server.broadcast_ignored', { type, revision, knownRevision: known });
      return false;
    }
    if (verdict === 'reset') {
      // The server's counter went back (its store lost data): the copy is of the past.
      logger.warn('server.revision_reset', { type, revision, knownRevision: known });
      serverCopy = null;
    }
    return true;
  };

  /**
   * A change broadcast while this client's delete is unanswered is not adopted: ordered
   * before the delete it is superseded by it (adopting it would bring the cleared state
   * back, and the next save would store it again); ordered after, it is newer than the
   * delete, and the revision recorded here makes the ack's reconcile fetch it.
   */
  const deferredByDelete = (type: string, revision: number): boolean => {
    if (pendingDeletes.size === 0 && !deleteQueued) return false;
    logger.debug('server.broadcast_deferred_by_delete', { type, revision });
    return true;
  };

  const receivePatch = (message: Extract<IncomingServerMessage, { type: 'patch' }>): void => {
    const { revision, baseRevision } = message;
    if (!takeBroadcast('patch', revision)) return;
    // Our own save, echoed: its ack holds the copy at this revision, as it does for a `state`.
    if (message.origin === origin) return;
    if (deferredByDelete('patch', revision)) return;
    const heldRevision = serverCopy?.revision;
    const outcome = applyServerPatch(serverCopy, message, context.migrations);
    if (outcome.kind === 'applied') {
      logger.debug('server.patch_applied', { revision, baseRevision });
      receiveState({ state: outcome.state, revision, savedAt: message.savedAt }, message.origin);
      return;
    }
    const event = { revision, baseRevision, heldRevision, reason: outcome.reason };
    // Another base happens (e.g. a change that raced the last GET); a patch that does not
    // apply to its own base means the copies differ, which is worth seeing.
    if (outcome.kind === 'no-base') logger.debug('server.patch_refetch', event);
    else logger.warn('server.patch_failed_refetch', event);
    requestPull();
  };

  /** Sends a delete; false when the socket is not there to take it. */
  const sendDelete = (
    caller: Pick<PendingDelete, 'resolve' | 'reject'>,
    queued: boolean,
  ): boolean => {
    if (!connection.isReady()) return false;
    const id = `${origin}:${++seq}`;
    if (!connection.send({ type: 'delete', id, origin })) return false;
    const timer = setTimeout(() => {
      pendingDeletes.delete(id);
      const error = new ServerRejectedError(
        504,
        'timeout',
        `no answer to delete ${id} in ${ackTimeoutMs} ms`,
        id,
      );
      if (queued) {
        deleteQueued = true;
        failAndRetry(error, true);
        return;
      }
      onError(error);
      caller.reject(error);
    }, ackTimeoutMs);
    pendingDeletes.set(id, { knownRevision: revisions.known() ?? 0, queued, timer, ...caller });
    logger.debug('server.delete_sent', { id, queued });
    return true;
  };

  /** The socket dropped before the server answered: those deletes go again on `ready`. */
  const requeueDeletes = (): void => {
    if (pendingDeletes.size === 0) return;
    for (const pending of pendingDeletes.values()) {
      clearTimeout(pending.timer);
      pending.resolve('offline-queued');
    }
    pendingDeletes.clear();
    deleteQueued = true;
  };

  /** After `ready`, a retry or a delete's answer: decide between nothing, pull and push. */
  function reconcile(): void {
    if (!connection.isReady()) return;
    // A delete asked for while offline goes first: a pull could bring the state back.
    if (deleteQueued) {
      deleteQueued = !sendDelete(NO_CALLER, true);
      return;
    }
    // Its answer reconciles again.
    if (pendingDeletes.size > 0) return;
    if ((revisions.known() ?? 0) !== (syncedRevision ?? 0)) {
      requestPull();
      return;
    }
    if (unsynced()) sendSave();
    if (!inFlight) succeed();
  }

  const onMessage = (message: Exclude<IncomingServerMessage, { type: 'ready' }>): void => {
    switch (message.type) {
      case 'saved': {
        revisions.answered(message.revision);
        if (inFlight?.id !== message.id) return;
        clearTimeout(inFlight.timer);
        synced = inFlight.refs;
        syncedRevision = message.revision;
        serverCopy = { state: inFlight.state, revision: message.revision };
        inFlight = null;
        host.saved(message.savedAt);
        succeed();
        if (unsynced()) saveDebounce.schedule();
        return;
      }
      case 'error': {
        const failed = inFlight !== null && inFlight.id === message.id ? inFlight : null;
        if (failed) {
          clearTimeout(failed.timer);
          inFlight = null;
        }
        const retryable = RETRYABLE.has(message.status);
        if (message.status === 412) {
          // Only a restore after a 404 names a base: the server moved past it, and the
          // broadcast of whatever moved it (a delete, a save) is on its way. Not an error.
          logger.debug('server.save_stale', { id: message.id });
          if (!failed) return;
          if (unsynced()) saveDebounce.schedule();
          else succeed();
          return;
        }
        if (failed && !retryable && message.status !== 409) rejected = failed.refs;
        const current = message.current;
        if (message.status === 409 && current) {
          revisions.answered(current.revision);
          // A broadcast that overtook this answer already brought a newer state: the
          // conflict's is of the past (adopting it would go back until a pull).
          if (syncedRevision !== undefined && current.revision < syncedRevision) {
            logger.debug('server.conflict_behind', {
              revision: current.revision,
              syncedRevision,
            });
            if (unsynced()) saveDebounce.schedule();
            succeed();
            return;
          }
          const state = checkState(current.state, 'server conflict');
          if (!state) return;
          serverCopy = { state, revision: current.revision };
          // 409 means the server holds something newer than what we sent; we may have
          // changed again since, so the rule decides, not the status code.
          if (
            !consider({ state, revision: current.revision, savedAt: current.savedAt }, 'server')
          ) {
            saveDebounce.schedule();
          }
          succeed();
          return;
        }
        const error = new ServerRejectedError(
          message.status,
          message.error,
          message.message,
          message.id,
        );
        const refusedDelete = message.id === undefined ? undefined : pendingDeletes.get(message.id);
        if (refusedDelete && message.id !== undefined) {
          clearTimeout(refusedDelete.timer);
          pendingDeletes.delete(message.id);
          if (refusedDelete.queued) {
            // Its caller was told `offline-queued`: a refusal worth retrying stays queued;
            // either way the retry reconciles.
            deleteQueued = retryable;
            failAndRetry(error, true);
            return;
          }
          refusedDelete.reject(error);
        }
        failAndRetry(error, retryable);
        return;
      }
      case 'state': {
        if (!takeBroadcast('state', message.revision)) return;
        if (message.origin === origin) return; // our own save, echoed
        if (deferredByDelete('state', message.revision)) return;
        const state = checkState(message.state, 'server broadcast');
        if (!state) return;
        receiveState(
          { state, revision: message.revision, savedAt: message.savedAt },
          message.origin,
        );
        return;
      }
      case 'patch':
        receivePatch(message);
        return;
      case 'deleted': {
        if (!takeBroadcast('deleted', message.revision)) return;
        serverCopy = null;
        if (message.origin === origin) return;
        synced = host.remoteDeleted();
        syncedRevision = message.revision;
        return;
      }
      case 'delete-ack': {
        revisions.answered(message.revision);
        syncedRevision = message.revision;
        serverCopy = null;
        const pending = pendingDeletes.get(message.id);
        if (pending) {
          clearTimeout(pending.timer);
          pendingDeletes.delete(message.id);
          // A delete bumps the revision only when something was stored.
          pending.resolve(message.revision > pending.knownRevision ? 'deleted' : 'nothing-stored');
        }
        reconcile();
        return;
      }
    }
  };

  const onStatus = (status: ConnectionStatus): void => {
    if (status === 'ready') return; // reconcile() reports `synced` once it is true
    if (status !== 'connecting') {
      if (inFlight) clearTimeout(inFlight.timer);
      inFlight = null;
      requeueDeletes();
    }
    host.status(status);
  };

  const connection = createServerConnection({
    subscribeUrl: endpoints.subscribeUrl,
    getToken: options.getToken,
    createSocket,
    backoff,
    readyTimeoutMs: options.readyTimeoutMs ?? 10_000,
    logger,
    onError,
    handlers: {
      onReady(revision) {
        revisions.ready(revision);
        // Revisions went back: the server's store lost its data, the copy is of the past.
        if (serverCopy && revision < serverCopy.revision) serverCopy = null;
        host.status('connecting');
        reconcile();
      },
      onMessage,
      onStatus,
    },
  });

  return {
    start: () => connection.start(),
    stop() {
      if (stopped) return;
      stopped = true;
      sendPendingNow();
      saveDebounce.cancel();
      epoch += 1;
      pullQueued = false;
      serverCopy = null;
      if (retryTimer !== undefined) clearTimeout(retryTimer);
      if (inFlight) clearTimeout(inFlight.timer);
      inFlight = null;
      for (const pending of pendingDeletes.values()) {
        clearTimeout(pending.timer);
        pending.reject(
          new ServerUnreachableError(
            endpoints.subscribeUrl,
            undefined,
            'stopped before the server answered the delete',
          ),
        );
      }
      pendingDeletes.clear();
      deleteQueued = false;
      connection.stop();
    },
    notifyChange() {
      if (unsynced()) saveDebounce.schedule();
    },
    flush: () => sendPendingNow(),
    markSynced(refs, revision) {
      synced = refs;
      if (revision !== undefined) syncedRevision = revision;
    },
    revisionFor: (refs) => (sameContent(refs, synced) ? syncedRevision : undefined),
    deleteRemote() {
      epoch += 1;
      pullQueued = false;
      serverCopy = null;
      saveDebounce.cancel();
      // A save in flight carries what is being deleted: its ack must not mark it synced.
      if (inFlight) clearTimeout(inFlight.timer);
      inFlight = null;
      synced = host.current().refs;
      return new Promise<RemoteDeleteOutcome>((resolve, reject) => {
        if (sendDelete({ resolve, reject }, false)) return;
        deleteQueued = true;
        logger.debug('server.delete_queued', {});
        resolve('offline-queued');
      });
    },
    reconnectNow: () => connection.reconnectNow(),
  };
}

function defaultSocketFactory(): SocketFactory {
  return (url) => {
    if (typeof WebSocket === 'undefined') throw new Error('no WebSocket in this environment');
    return new WebSocket(url);
  };
}

function defaultFetch(): FetchLike {
  return (url, init) => globalThis.fetch(url, init);
}
