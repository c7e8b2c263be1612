// Deletes of the server copy (clear): those sent and not answered yet, and one queued
// while offline, sent first once the socket is ready again (before anything is compared,
// so a pull cannot bring the cleared state back).
import { type PersistenceError, ServerRejectedError } from '../errors.js';
import type { PersistenceLogger } from '../logger.js';
import type { ServerConnection } from './connection.js';

/**
 * What became of the server's copy on a delete: `deleted` (the server removed a stored
 * state), `nothing-stored` (it held none), `offline-queued` (not connected: the delete is
 * sent as soon as the socket is ready again, while this engine runs).
 */
export type RemoteDeleteOutcome = 'deleted' | 'nothing-stored' | 'offline-queued';

/** Whoever waits for a delete's outcome. */
export interface DeleteCaller {
  resolve(outcome: RemoteDeleteOutcome): void;
  reject(error: PersistenceError): void;
}

interface PendingDelete extends DeleteCaller {
  /** The server revision known when it was sent: an ack above it means a state was removed. */
  knownRevision: number;
  /** Sent from the queue: its caller was already told `offline-queued`. */
  queued: boolean;
  timer: ReturnType<typeof setTimeout>;
}

const NO_CALLER: DeleteCaller = { resolve() {}, reject() {} };

export interface DeletesOptions {
  origin: string;
  connection: Pick<ServerConnection, 'isReady' | 'send'>;
  nextId: () => string;
  /** The server revision as far as known. */
  knownRevision: () => number;
  ackTimeoutMs: number;
  logger: PersistenceLogger;
  /** A caller's delete got no answer in time (the caller is rejected too). */
  onError: (error: PersistenceError) => void;
  /** A queued delete failed (timeout or refusal): report, and retry with backoff. */
  onQueuedFailure: (error: PersistenceError) => void;
}

/** How a refusal was taken: `queued` (its caller was told already; it stays queued if retryable). */
export type RefusalOutcome = 'not-a-delete' | 'queued' | 'rejected';

export interface Deletes {
  /** Sends a delete for `caller`; false when the socket is not there to take it. */
  send(caller: DeleteCaller): boolean;
  /** Remembers to send a delete once the socket is ready. */
  queue(): void;
  /** Sends the queued delete (keeps it queued if it cannot go). */
  sendQueued(): void;
  isQueued(): boolean;
  isPending(): boolean;
  /** An answer: resolves the caller with what was removed. */
  acknowledge(id: string, revision: number): void;
  /** An error answer for `id`. */
  refuse(id: string | undefined, error: PersistenceError, retryable: boolean): RefusalOutcome;
  /** The socket dropped before the answers: those deletes go again on `ready`. */
  requeue(): void;
  /** Rejects every caller still waiting and forgets the queue. */
  stop(error: PersistenceError): void;
}

export function createDeletes(options: DeletesOptions): Deletes {
  const { connection, logger, ackTimeoutMs } = options;
  const pending = new Map<string, PendingDelete>();
  let queued = false;

  const send = (caller: DeleteCaller, fromQueue: boolean): boolean => {
    if (!connection.isReady()) return false;
    const id = options.nextId();
    if (!connection.send({ type: 'delete', id, origin: options.origin })) return false;
    const timer = setTimeout(() => {
      pending.delete(id);
      const error = new ServerRejectedError(
        504,
        'timeout',
        `no answer to delete ${id} in ${ackTimeoutMs} ms`,
        id,
      );
      if (fromQueue) {
        queued = true;
        options.onQueuedFailure(error);
        return;
      }
      options.onError(error);
      caller.reject(error);
    }, ackTimeoutMs);
    pending.set(id, {
      knownRevision: options.knownRevision(),
      queued: fromQueue,
      timer,
      ...caller,
    });
    logger.debug('server.delete_sent', { id, queued: fromQueue });
    return true;
  };

  return {
    send: (caller) => send(caller, false),
    queue() {
      queued = true;
      logger.debug('server.delete_queued', {});
    },
    sendQueued() {
      queued = !send(NO_CALLER, true);
    },
    isQueued: () => queued,
    isPending: () => pending.size > 0,
    acknowledge(id, revision) {
      const entry = pending.get(id);
      if (!entry) return;
      clearTimeout(entry.timer);
      pending.delete(id);
      // A delete bumps the revision only when something was stored.
      entry.resolve(revision > entry.knownRevision ? 'deleted' : 'nothing-stored');
    },
    refuse(id, error, retryable) {
      const entry = id === undefined ? undefined : pending.get(id);
      if (!entry || id === undefined) return 'not-a-delete';
      clearTimeout(entry.timer);
      pending.delete(id);
      if (entry.queued) {
        // Its caller was told `offline-queued`: a refusal worth retrying stays queued.
        queued = retryable;
        return 'queued';
      }
      entry.reject(error);
      return 'rejected';
    },
    requeue() {
      if (pending.size === 0) return;
      for (const entry of pending.values()) {
        clearTimeout(entry.timer);
        entry.resolve('offline-queued');
      }
      pending.clear();
      queued = true;
    },
    stop(error) {
      for (const entry of pending.values()) {
        clearTimeout(entry.timer);
        entry.reject(error);
      }
      pending.clear();
      queued = false;
    },
  };
}
