// Live sync with the server over the subscribe socket: wires the units together.
// - server-connection.ts: the socket (auth, ready, reconnect with backoff);
// - sync-outbox.ts: the save queue (one save in flight, the latest state always wins);
// - sync-deletes.ts: deletes sent or queued while offline;
// - sync-base.ts: what is known of the server's copy (agreed content, revisions, the copy
//   patches apply to); server-pull.ts: the GET when the socket says the server moved on;
// - sync-decisions.ts: the three-way rule and the other decisions, as pure functions;
// - sync-health.ts: success, failure and the retry after it.
// This file only routes messages and events between them.
//
// Status: `synced` once the server holds what this client holds; `offline` while the
// socket is down or the server says its store is (`{ type: 'status', store: 'down' }`:
// changes are kept locally, and nothing is sent until `up`, which reconciles first and
// then reports `synced`); `error` when the server refused something or a retry is pending.
//
// Three-way logic: the agreed content is the one last known to equal the server's copy.
// Local unchanged since + server moved on → adopt; local changed + server unchanged →
// push; both changed → merge (sync-merge.ts: per field against the agreed content, so
// neither side's edits are lost) and push the result. Every save names the revision its
// content is based on: when another save got in first the server refuses it (412), the
// client fetches the newer copy and merges again. While offline the engine keeps
// persisting locally; `ready` after a reconnect merges and pushes whatever changed.
//
// The socket asks for `patch` messages (server-url.ts): a change arrives as a delta against
// the previous revision, applied to the held server copy; a patch for another base, or one
// that does not apply, is answered with a GET of the full state. A broadcast older than
// what the client already knows is ignored (server-revision.ts).
import { type DashboardState, type MigrationTable, migrateDashboardState } from '@hyvve/schema';
import { type ContentRefs, isEmptyDashboard, refsOf, sameContent } from '../content/refs.js';
import {
  InvalidPersistedStateError,
  type PersistenceError,
  ServerRejectedError,
  ServerUnreachableError,
} from '../errors.js';
import type { PersistenceLogger } from '../logger.js';
import type { BackoffOptions } from '../timing/backoff.js';
import { createSyncBase } from './base.js';
import { createServerClock } from './clock.js';
import { type ConnectionStatus, createServerConnection } from './connection.js';
import {
  decideEmptyServer,
  decideReconcile,
  decideRemote,
  decideSaveError,
  isRetryablePullError,
  isRetryableStatus,
} from './decisions.js';
import { createDeletes, type RemoteDeleteOutcome } from './deletes.js';
import type { FetchedState, FetchLike } from './fetch-state.js';
import { createSyncHealth } from './health.js';
import { baseWithLostSave } from './lost-save.js';
import { decideMerge, sameStateContent } from './merge.js';
import { createOutbox } from './outbox.js';
import { applyServerPatch } from './patch.js';
import { createServerPull } from './pull.js';
import {
  defaultSocketFactory,
  type GetToken,
  type IncomingServerMessage,
  type SocketFactory,
} from './socket.js';
import { resolveServerEndpoints } from './url.js';

export type { RemoteDeleteOutcome } from './deletes.js';

export type SyncStatus = 'local-only' | 'connecting' | 'synced' | 'offline' | 'error';

/** What the sync layer needs from the engine. */
export interface SyncHost {
  /** The current persistable state, its content refs, and the origin that produced it. */
  current(): { state: DashboardState; refs: ContentRefs; origin: string };
  /** Applies a state from the server; returns the refs now in the store. */
  adopt(state: DashboardState, origin: string): ContentRefs;
  /**
   * Puts the merge of local changes with a server copy in the store as this engine's own
   * change (it is saved, stored locally and sent to the other tabs like an edit).
   */
  merged(state: DashboardState): ContentRefs;
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
  /**
   * Pacing of saves: the first change after a quiet period (no save for this long) is sent
   * at once; later ones at most once per this interval, always ending with the last state.
   * @default SERVER_SAVE_DEBOUNCE_MS (100)
   */
  saveThrottleMs?: number;
  /** A burst of changes less than `saveThrottleMs` apart still reaches the server this often. @default 1000 */
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
  /**
   * Marks content as equal to the server's copy (e.g. it came from a tab that saves it, or
   * from storage with the revision and store epoch it was stored at).
   */
  markSynced(refs: ContentRefs, revision?: number, epoch?: string): void;
  /** The server revision `refs` is known to be stored at, if any (kept in the envelope). */
  revisionFor(refs: ContentRefs): number | undefined;
  /** The server's store epoch as known (kept in the envelope beside the revision). */
  epoch(): string | undefined;
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

type Broadcast = Extract<IncomingServerMessage, { type: 'state' | 'patch' | 'deleted' }>;
type StoreStatusMessage = Extract<IncomingServerMessage, { type: 'status' }>;
type ErrorAnswer = Extract<IncomingServerMessage, { type: 'error' }>;

export function createServerSync(
  options: ServerSyncOptions,
  context: ServerSyncContext,
): ServerSync {
  const { origin, host, logger, onError } = context;
  const endpoints = resolveServerEndpoints(options.url, context.pageUrl);
  const ackTimeoutMs = options.ackTimeoutMs ?? 10_000;
  const backoff = options.reconnect ?? {};
  let seq = 0;
  const nextId = (): string => `${origin}:${++seq}`;
  let stopped = false;
  /** The server said its store is down: hold saves and deletes until it says `up`. */
  let storeDown = false;

  const base = createSyncBase(logger);
  const clock = createServerClock();
  /**
   * What a save carried whose answer was lost with its socket (sync-lost-save.ts): until
   * the next server copy is merged or adopted, what that copy holds of it is this
   * device's own history, not the other side's change.
   */
  let lostSave: DashboardState | null = null;
  /** A save refused for its timestamp was re-stamped and sent again (once per success). */
  let clockRetried = false;
  const localChanged = (): boolean => !base.isAgreed(host.current().refs);
  const health = createSyncHealth({
    backoff,
    logger,
    onError,
    report: (status) => report(status),
    retry: () => reconcile(),
  });
  const connection = createServerConnection({
    subscribeUrl: endpoints.subscribeUrl,
    getToken: options.getToken,
    createSocket: options.createWebSocket ?? defaultSocketFactory(),
    backoff,
    readyTimeoutMs: options.readyTimeoutMs ?? 10_000,
    logger,
    onError,
    handlers: { onReady, onMessage, onStatus },
  });
  /** The socket is ready and the server can store: saves and deletes may go. */
  const exchange = {
    isReady: () => connection.isReady() && !storeDown,
    send: connection.send,
  };
  const outbox = createOutbox({
    origin,
    connection: exchange,
    current: () => forServer(host.current()),
    isAgreed: (refs) => base.isAgreed(refs),
    baseRevision: () => base.syncedRevision(),
    nextId,
    ackTimeoutMs,
    throttleMs: options.saveThrottleMs,
    maxWaitMs: options.saveMaxWaitMs,
    logger,
    onTimeout: (error) => health.fail(error, true),
  });
  const deletes = createDeletes({
    origin,
    connection: exchange,
    nextId,
    knownRevision: () => base.revisions.known() ?? 0,
    ackTimeoutMs,
    logger,
    onError,
    onQueuedFailure: (error) => health.fail(error, true),
  });
  const pull = createServerPull({
    stateUrl: endpoints.stateUrl,
    getToken: options.getToken,
    fetch: options.fetch ?? defaultFetch(),
    onResult: receivePulled,
    onFailure: (error) => health.fail(error, isRetryablePullError(error)),
  });

  /**
   * What is sent, stamped at most at the server's time (server-clock.ts), yet newer than
   * the server copy held, so the server neither refuses it as from the future nor as older.
   */
  function forServer<T extends { state: DashboardState }>(current: T): T {
    const held = base.copy();
    const { timestamp } = current.state;
    const stamped = clock.stamp(timestamp, held ? held.state.timestamp + 1 : undefined);
    if (stamped === timestamp) return current;
    logger.debug('server.save_restamped', { timestamp, stamped });
    return { ...current, state: { ...current.state, timestamp: stamped } };
  }

  /**
   * The server refused a save for its timestamp (this device's clock runs ahead of what
   * the server learned): re-stamp at the last server time seen and send it once more.
   * Returns false when that was already tried (the refusal is then reported).
   */
  function retryClockRefusal(message: ErrorAnswer): boolean {
    if (message.path !== 'timestamp' || clockRetried) return false;
    clockRetried = true;
    if (message.serverTime === undefined) clock.distrust();
    else clock.observe(message.serverTime);
    logger.warn('server.save_clock_refused', { id: message.id, message: message.message });
    outbox.send();
    return true;
  }

  /** The engine's status: `synced` is not true while the server's store is down. */
  function report(status: SyncStatus): void {
    host.status(storeDown && status === 'synced' ? 'offline' : status);
  }

  /** Reports synced unless a save is still on its way. */
  function settleIfIdle(): void {
    if (!outbox.inFlight()) health.succeed();
  }

  function checkState(raw: unknown, source: string): DashboardState | null {
    const result = migrateDashboardState(raw, context.migrations);
    if (result.success) return result.data;
    onError(new InvalidPersistedStateError(source, result.error.path, result.error.message));
    return null;
  }

  /**
   * Applies a server copy per the three-way rule; returns whether the store now holds it
   * as is (false: nothing to take, or local changes merged into it that must be pushed).
   */
  function consider(remote: FetchedState, remoteOrigin: string): boolean {
    const lost = lostSave;
    lostSave = null;
    const local = host.current();
    const changed = localChanged();
    const decision = decideRemote({
      localChanged: changed,
      local: { timestamp: local.state.timestamp, origin: local.origin },
      remote: { timestamp: remote.state.timestamp, origin: remoteOrigin },
    });
    // Equal timestamps usually mean the same content, but two merges made in the same
    // millisecond on two devices differ: only equal content is agreed on as it is.
    if (decision === 'same' && sameStateContent(local.state, remote.state)) {
      base.agree(local.refs, remote.revision, local.state);
      return false;
    }
    if (changed) {
      const agreed = base.agreedState();
      const merge = decideMerge(
        {
          state: agreed && lost ? baseWithLostSave(agreed, lost, remote.state) : agreed,
          revision: base.syncedRevision(),
        },
        { state: local.state, origin: local.origin, unsynced: true },
        { state: remote.state, revision: remote.revision, origin: remoteOrigin },
      );
      if (merge.kind === 'merge') {
        // The server's copy becomes the base; the local content (merged) is pushed on it.
        base.agree(refsOf(remote.state), remote.revision, remote.state);
        // Stamped newer than both sides, so every tab and device takes it over either, and
        // the server's newer-wins check never refuses it.
        if (!merge.keepsLocal || local.state.timestamp <= remote.state.timestamp) {
          const timestamp = Math.max(
            local.state.timestamp + 1,
            remote.state.timestamp + 1,
            Date.now(),
          );
          host.merged({ ...merge.state, timestamp });
        }
        logger.debug('server.merged', {
          revision: remote.revision,
          keptLocalAsIs: merge.keepsLocal,
        });
        return false;
      }
    }
    base.agree(host.adopt(remote.state, remoteOrigin), remote.revision, remote.state);
    logger.debug('server.adopted', {
      revision: remote.revision,
      timestamp: remote.state.timestamp,
    });
    return true;
  }

  /**
   * The revision a 412 says the server holds. Lower than known: the server's store lost
   * its data and its counter started again, so the agreed revision means nothing there
   * any more (saves based on it would be refused forever).
   */
  function learnRevision(revision: number): void {
    if (revision >= (base.revisions.known() ?? 0)) {
      base.revisions.answered(revision);
      return;
    }
    logger.warn('server.revision_went_back', { revision, known: base.revisions.known() });
    base.ready(revision, base.epoch());
    base.setSyncedRevision(revision);
  }

  /** Records the content now in the store as the agreed one. */
  function agreeOnCurrent(refs: ContentRefs, revision?: number): void {
    const current = host.current();
    base.agree(refs, revision, sameContent(refs, current.refs) ? current.state : null);
  }

  function receivePulled(remote: FetchedState | null): void {
    if (!exchange.isReady()) return;
    const held = base.copy();
    if (remote && held && remote.revision < held.revision) {
      // Served before a change the socket has delivered since: applying it would go back.
      logger.debug('server.pull_stale', { revision: remote.revision, heldRevision: held.revision });
      settleIfIdle();
      return;
    }
    base.hold(remote && { state: remote.state, revision: remote.revision });
    if (remote === null) serverHoldsNothing();
    else if (!consider(remote, 'server') && localChanged()) outbox.send();
    settleIfIdle();
  }

  function serverHoldsNothing(): void {
    const known = base.revisions.known() ?? 0;
    const decision = decideEmptyServer({
      localEmpty: isEmptyDashboard(host.current().state),
      syncedRevision: base.syncedRevision(),
      knownRevision: known,
    });
    base.setSyncedRevision(known);
    if (decision === 'nothing-to-restore') agreeOnCurrent(host.current().refs);
    else if (decision === 'restore') outbox.send({ force: true, baseRevision: known });
    else {
      logger.debug('server.deleted_since_sync', { revision: known });
      agreeOnCurrent(host.remoteDeleted());
    }
  }

  /** A full state the server stored at `remote.revision` (broadcast, patched or 409). */
  function receiveState(remote: FetchedState, remoteOrigin: string): void {
    base.hold({ state: remote.state, revision: remote.revision });
    if (!consider(remote, remoteOrigin) && localChanged()) outbox.schedule();
  }

  /**
   * A change broadcast while this client's delete is unanswered is not adopted: ordered
   * before the delete it is superseded by it (adopting it would bring the cleared state
   * back, and the next save would store it again); ordered after, it is newer than the
   * delete, and the revision recorded here makes the ack's reconcile fetch it.
   */
  function deferredByDelete(type: string, revision: number): boolean {
    if (!deletes.isPending() && !deletes.isQueued()) return false;
    logger.debug('server.broadcast_deferred_by_delete', { type, revision });
    return true;
  }

  function receiveBroadcast(message: Broadcast): void {
    if (!base.takeBroadcast(message.type, message.revision)) return;
    if (message.type === 'deleted') {
      base.hold(null);
      if (message.origin === origin) return;
      agreeOnCurrent(host.remoteDeleted(), message.revision);
      return;
    }
    // Our own save, echoed: its ack holds the copy at this revision.
    if (message.origin === origin) return;
    if (deferredByDelete(message.type, message.revision)) return;
    if (message.type === 'state') {
      const state = checkState(message.state, 'server broadcast');
      if (!state) return;
      receiveState({ state, revision: message.revision, savedAt: message.savedAt }, message.origin);
      return;
    }
    const { revision, baseRevision } = message;
    const heldRevision = base.copy()?.revision;
    const outcome = applyServerPatch(base.copy(), message, context.migrations);
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
    pull.request();
  }

  function receiveError(message: ErrorAnswer): void {
    const failed = outbox.settle(message.id);
    const decision = decideSaveError(message.status, message.current !== undefined);
    if (decision === 'stale-base') {
      // Another save (or a delete) got in before this one: fetch what the server holds
      // now and merge with it (a broadcast on its way may bring it first).
      logger.debug('server.save_stale', { id: message.id, revision: message.revision });
      if (message.revision !== undefined) learnRevision(message.revision);
      if (failed) pull.request();
      return;
    }
    if (failed && decision === 'refused' && retryClockRefusal(message)) return;
    if (failed && decision === 'refused') outbox.refuse(failed.refs);
    const current = message.current;
    if (decision === 'conflict' && current) {
      base.revisions.answered(current.revision);
      const syncedRevision = base.syncedRevision();
      // A broadcast that overtook this answer already brought a newer state: the
      // conflict's is of the past (adopting it would go back until a pull).
      if (syncedRevision !== undefined && current.revision < syncedRevision) {
        logger.debug('server.conflict_behind', { revision: current.revision, syncedRevision });
        if (localChanged()) outbox.schedule();
        health.succeed();
        return;
      }
      const state = checkState(current.state, 'server conflict');
      if (!state) return;
      base.hold({ state, revision: current.revision });
      // 409: the server holds something newer than what we sent; we may have changed
      // again since, so the rule decides, not the status code.
      if (!consider({ state, revision: current.revision, savedAt: current.savedAt }, 'server')) {
        outbox.schedule();
      }
      health.succeed();
      return;
    }
    const error = new ServerRejectedError(
      message.status,
      message.error,
      message.message,
      message.id,
    );
    const retryable = isRetryableStatus(message.status);
    const refusal = deletes.refuse(message.id, error, retryable);
    if (storeDown && message.status === 503) {
      // Sent before the server said its store is down: `up` reconciles (and sends it
      // again); the outage is already the status, not a new failure.
      logger.debug('server.refused_while_store_down', { id: message.id });
      return;
    }
    // A queued delete's caller was told `offline-queued`: the retry reconciles either way.
    health.fail(error, refusal === 'queued' || retryable);
  }

  /** After `ready`, a retry or a delete's answer: decide between nothing, pull and push. */
  function reconcile(): void {
    if (!exchange.isReady()) return;
    const decision = decideReconcile({
      deleteQueued: deletes.isQueued(),
      deletePending: deletes.isPending(),
      knownRevision: base.revisions.known(),
      syncedRevision: base.syncedRevision(),
      localChanged: localChanged(),
    });
    if (decision === 'send-queued-delete') deletes.sendQueued();
    else if (decision === 'pull') pull.request();
    else if (decision !== 'await-delete') {
      // Nothing synced yet and the server at the revision known (0: it never held a state
      // in this epoch): later saves are based on that revision, so when another device's
      // first save gets in before this one the server refuses it (412) and the client
      // merges, instead of one unconditional save overwriting the other (newer wins).
      if (base.syncedRevision() === undefined) base.setSyncedRevision(base.revisions.known() ?? 0);
      if (decision === 'push') outbox.send();
      settleIfIdle();
    }
  }

  function onMessage(message: Exclude<IncomingServerMessage, { type: 'ready' }>): void {
    switch (message.type) {
      case 'saved': {
        base.revisions.answered(message.revision);
        base.answeredEpoch(message.epoch);
        clock.observe(message.savedAt);
        const save = outbox.settle(message.id);
        if (!save) return;
        clockRetried = false;
        lostSave = null;
        base.agree(save.refs, message.revision, save.state);
        base.hold({ state: save.state, revision: message.revision });
        host.saved(message.savedAt);
        health.succeed();
        if (localChanged()) outbox.schedule();
        return;
      }
      case 'delete-ack':
        base.revisions.answered(message.revision);
        base.answeredEpoch(message.epoch);
        base.setSyncedRevision(message.revision);
        base.hold(null);
        deletes.acknowledge(message.id, message.revision);
        reconcile();
        return;
      case 'error':
        receiveError(message);
        return;
      case 'status':
        receiveStoreStatus(message);
        return;
      default:
        receiveBroadcast(message);
    }
  }

  /**
   * `down`: the server cannot store; what changes here is kept locally (the engine keeps
   * persisting) and sent once it says `up`, which reconciles as after `ready` (pull if the
   * server moved on, push what changed) and then reports `synced`.
   */
  function receiveStoreStatus(message: StoreStatusMessage): void {
    const down = message.store === 'down';
    if (down === storeDown) return;
    storeDown = down;
    logger.warn('server.store_status', { store: message.store });
    if (down) {
      host.status('offline');
      return;
    }
    host.status('connecting');
    reconcile();
  }

  function onReady(
    revision: number,
    epoch: string | undefined,
    serverTime: number | undefined,
  ): void {
    if (serverTime !== undefined) clock.observe(serverTime);
    // A new epoch: the store lost or reset its data; reconcile as on a first connect
    // (an empty server gets this client's state; local state is never wiped for it).
    base.ready(revision, epoch);
    host.status('connecting');
    reconcile();
  }

  function onStatus(status: ConnectionStatus): void {
    if (status === 'ready') return; // reconcile() reports `synced` once it is true
    // The socket is gone (a save or delete can only be in flight on a ready one): their
    // answers will not come. A new socket starts with the store up until it says otherwise.
    const unanswered = outbox.inFlight();
    if (unanswered) lostSave = unanswered.state;
    outbox.abandon();
    deletes.requeue();
    storeDown = false;
    host.status(status);
  }

  return {
    start: () => connection.start(),
    stop() {
      if (stopped) return;
      stopped = true;
      outbox.sendPendingNow();
      outbox.cancel();
      pull.stop();
      base.hold(null);
      health.stop();
      outbox.abandon();
      deletes.stop(
        new ServerUnreachableError(
          endpoints.subscribeUrl,
          undefined,
          'stopped before the server answered the delete',
        ),
      );
      connection.stop();
    },
    notifyChange() {
      if (localChanged()) outbox.schedule();
    },
    flush: () => outbox.sendPendingNow(),
    markSynced(refs, revision, epoch) {
      agreeOnCurrent(refs, revision);
      if (epoch !== undefined) base.assumeEpoch(epoch);
    },
    revisionFor: (refs) => base.revisionFor(refs),
    epoch: () => base.epoch(),
    deleteRemote() {
      pull.invalidate();
      base.hold(null);
      outbox.cancel();
      // A save in flight carries what is being deleted: its ack must not mark it synced.
      outbox.abandon();
      lostSave = null;
      agreeOnCurrent(host.current().refs);
      return new Promise<RemoteDeleteOutcome>((resolve, reject) => {
        if (deletes.send({ resolve, reject })) return;
        deletes.queue();
        resolve('offline-queued');
      });
    },
    reconnectNow: () => connection.reconnectNow(),
  };
}

function defaultFetch(): FetchLike {
  return (url, init) => globalThis.fetch(url, init);
}
