// Live sync with the server over the subscribe socket, as one destination of the engine
// (engine/destination.ts). This file wires the units and routes messages between them:
// - connection.ts: the socket (auth, ready, reconnect with backoff), a phase union;
// - outbox.ts: the save queue (one save in flight, the latest state always wins);
// - deletes.ts: deletes sent or queued while offline;
// - base.ts: what is known of the server's copy (agreed content, revisions, the copy
//   patches apply to); pull.ts: the GET when the socket says the server moved on;
// - remote.ts: changes from the server (broadcasts, pulled copies, conflicts) through the
//   three-way rule; decisions.ts and merge.ts: the decisions, as pure functions;
// - health.ts: success, failure and the retry after it; status.ts: the status shown.
//
// Status: `synced` once the server holds what this client holds; `offline` while the
// socket is down or the server says its store is (`{ type: 'status', store: 'down' }`:
// changes are kept locally, and nothing is sent until `up`, which reconciles first and
// then reports `synced`); `error` when the server refused something or a retry is pending.
//
// Every save names the revision its content is based on: when another save got in first
// the server refuses it (412), the client fetches the newer copy and merges again. While
// offline the engine keeps persisting locally; `ready` after a reconnect merges and pushes
// whatever changed. The socket asks for `patch` messages (url.ts; applied in remote.ts).
import type { DashboardState, MigrationTable } from '@hyvve/schema';
import type { ContentRefs } from '../content/refs.js';
import type { Destination, LocalContent } from '../engine/destination.js';
import { type PersistenceError, ServerRejectedError, ServerUnreachableError } from '../errors.js';
import type { PersistenceLogger } from '../logger.js';
import { type LeaderOptions, shareConnection } from '../tabs/leader.js';
import { createSyncBase } from './base.js';
import { createServerClock } from './clock.js';
import { type ConnectionStatus, createServerConnection } from './connection.js';
import {
  decideReconcile,
  decideSaveError,
  isRetryablePullError,
  isRetryableStatus,
} from './decisions.js';
import { createDeletes, type RemoteDeleteOutcome } from './deletes.js';
import { defaultFetch } from './fetch-state.js';
import { createSyncHealth } from './health.js';
import type { ServerSyncOptions } from './options.js';
import { createOutbox } from './outbox.js';
import { createServerPull } from './pull.js';
import { createRemoteChanges } from './remote.js';
import { defaultSocketFactory, type IncomingServerMessage } from './socket.js';
import { type SyncStatus, visibleStatus } from './status.js';
import { resolveServerEndpoints } from './url.js';

/** The server as a destination; `hold` marks content as equal to the server's copy. */
export interface ServerSync extends Destination {
  start(): void;
  /** Sends a pending save now if the socket is open, then closes. Safe to call twice. */
  stop(): void;
  /**
   * Marks content loaded from storage as stored on the server at `revision`, of the store
   * epoch `epoch` (so a `ready` after the store lost its data is recognised across a reload).
   */
  markStored(refs: ContentRefs, revision: number, epoch?: string): void;
  /** Where the server is known to store `refs`, if it is (kept in the envelope). */
  serverCopyOf(refs: ContentRefs): { revision: number; epoch: string | undefined } | undefined;
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
  local: LocalContent;
  logger: PersistenceLogger;
  onError: (error: PersistenceError) => void;
  /** The status the engine shows changed. */
  onStatus: (status: SyncStatus) => void;
  /** The server acknowledged a save (server time). */
  onSaved: (savedAt: number) => void;
  migrations?: MigrationTable | undefined;
  pageUrl?: string | undefined;
  /** One socket per browser (tabs/leader.ts), shared by the tabs of `owner` (for the lock name). */
  share?: (Pick<LeaderOptions, 'locks' | 'createChannel'> & { owner: () => string }) | undefined;
}

type StoreStatusMessage = Extract<IncomingServerMessage, { type: 'status' }>;
type ErrorAnswer = Extract<IncomingServerMessage, { type: 'error' }>;

export function createServerSync(
  options: ServerSyncOptions,
  context: ServerSyncContext,
): ServerSync {
  const { origin, local, logger, onError } = context;
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
  /** A save refused for its timestamp was re-stamped and sent again (once per success). */
  let clockRetried = false;
  const health = createSyncHealth({
    backoff,
    logger,
    onError,
    report: (status) => report(status),
    retry: () => reconcile(),
  });
  const createSocket = options.createWebSocket ?? defaultSocketFactory();
  const { share } = context;
  const shared =
    share &&
    shareConnection({
      ...share,
      name: () => `hyvve-connection ${endpoints.subscribeUrl} ${share.owner()}`,
      origin,
      createSocket,
      wake: () => connection.reconnectNow(),
      logger,
    });
  const connection = createServerConnection({
    subscribeUrl: endpoints.subscribeUrl,
    getToken: options.getToken,
    createSocket: shared?.createSocket ?? createSocket,
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
    current: () => forServer(local.current()),
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
    onResult: (remote) => remoteChanges.receivePulled(remote),
    onFailure: (error) => health.fail(error, isRetryablePullError(error)),
  });
  const remoteChanges = createRemoteChanges({
    origin,
    local,
    base,
    outbox,
    deletes,
    health,
    requestPull: () => pull.request(),
    isReady: () => exchange.isReady(),
    migrations: context.migrations,
    logger,
  });
  const { localChanged, agreeOnCurrent, settleIfIdle } = remoteChanges;

  /**
   * What is sent, stamped at most at the server's time (clock.ts), yet newer than
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
    context.onStatus(visibleStatus(status, storeDown));
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
      remoteChanges.receiveConflict(current);
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
        remoteChanges.rememberLostSave(null);
        base.agree(save.refs, message.revision, save.state);
        base.hold({ state: save.state, revision: message.revision });
        context.onSaved(message.savedAt);
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
        remoteChanges.receiveBroadcast(message);
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
      context.onStatus('offline');
      return;
    }
    context.onStatus('connecting');
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
    context.onStatus('connecting');
    reconcile();
  }

  function onStatus(status: ConnectionStatus): void {
    if (status === 'ready') return; // reconcile() reports `synced` once it is true
    // The socket is gone (a save or delete can only be in flight on a ready one): their
    // answers will not come. A new socket starts with the store up until it says otherwise.
    const unanswered = outbox.inFlight();
    if (unanswered) remoteChanges.rememberLostSave(unanswered.state);
    outbox.abandon();
    deletes.requeue();
    storeDown = false;
    context.onStatus(status);
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
      shared?.close();
    },
    hold: (refs) => agreeOnCurrent(refs),
    notifyChange() {
      if (localChanged()) outbox.schedule();
    },
    flush: () => outbox.sendPendingNow(),
    markStored(refs, revision, epoch) {
      agreeOnCurrent(refs, revision);
      if (epoch !== undefined) base.assumeEpoch(epoch);
    },
    serverCopyOf(refs) {
      const revision = base.revisionFor(refs);
      return revision === undefined ? undefined : { revision, epoch: base.epoch() };
    },
    deleteRemote() {
      pull.invalidate();
      base.hold(null);
      outbox.cancel();
      // A save in flight carries what is being deleted: its ack must not mark it synced.
      outbox.abandon();
      remoteChanges.rememberLostSave(null);
      agreeOnCurrent(local.current().refs);
      return new Promise<RemoteDeleteOutcome>((resolve, reject) => {
        if (deletes.send({ resolve, reject })) return;
        deletes.queue();
        resolve('offline-queued');
      });
    },
    reconnectNow: () => connection.reconnectNow(),
  };
}
