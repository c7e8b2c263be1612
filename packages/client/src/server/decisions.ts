// The decisions of server sync as pure functions: what to do with a state the server
// holds, with an empty server, after `ready`, and with an error answer. No sockets, no
// timers, no mutable state: sync.ts and remote.ts gather the facts, calls these, and acts.
import { type ContentStamp, isNewer } from '../content/stamp.js';
import {
  type PersistenceError,
  ServerRejectedError,
  ServerUnreachableError,
  TokenError,
} from '../errors.js';

/** HTTP and socket statuses worth asking again for (load, rate limit, outage). */
const RETRYABLE_STATUSES = new Set([429, 500, 502, 503, 504]);

export function isRetryableStatus(status: number): boolean {
  return RETRYABLE_STATUSES.has(status);
}

/**
 * `same`: the server holds what we hold (a revision bump of it): just note the revision.
 * `adopt`: take the server's state (local unchanged since the last agreement, or older).
 * `keep-local`: local changed and is newer: keep it (and push it).
 */
export type RemoteDecision = 'same' | 'adopt' | 'keep-local';

export interface RemoteFacts {
  /** Local content differs from the last content agreed with the server. */
  localChanged: boolean;
  local: ContentStamp;
  remote: ContentStamp;
}

/** Three-way rule against the last agreed copy; both changed → newer timestamp wins. */
export function decideRemote({ localChanged, local, remote }: RemoteFacts): RemoteDecision {
  if (!localChanged && remote.timestamp === local.timestamp) return 'same';
  if (!localChanged || isNewer(remote, local)) return 'adopt';
  return 'keep-local';
}

/**
 * A GET found nothing stored. The server keeps its revision counter across a delete, while
 * expiry and data loss leave it at the revision this client knows or lower, so:
 * - `nothing-to-restore`: the local dashboard is empty: agree on it;
 * - `deleted-since-sync`: the server is past the revision this client last synced at, so
 *   the state was deleted since: the delete wins (reset, push nothing);
 * - `restore`: first use, expiry or data loss: push the local content (naming the revision
 *   it expects, so a delete not heard of yet makes the server refuse it with 412).
 */
export type EmptyServerDecision = 'nothing-to-restore' | 'deleted-since-sync' | 'restore';

export function decideEmptyServer(facts: {
  localEmpty: boolean;
  syncedRevision: number | undefined;
  knownRevision: number;
}): EmptyServerDecision {
  if (facts.localEmpty) return 'nothing-to-restore';
  if (facts.syncedRevision !== undefined && facts.knownRevision > facts.syncedRevision) {
    return 'deleted-since-sync';
  }
  return 'restore';
}

/**
 * What to do once the socket is ready (after `ready`, a retry or a delete's answer):
 * a delete asked for while offline goes first (a pull could bring the state back); while a
 * delete is unanswered wait for its answer; the server moved on → pull; else push what
 * changed locally (if anything) and report synced.
 */
export type ReconcileDecision = 'send-queued-delete' | 'await-delete' | 'pull' | 'push' | 'settled';

export function decideReconcile(facts: {
  deleteQueued: boolean;
  deletePending: boolean;
  knownRevision: number | undefined;
  syncedRevision: number | undefined;
  localChanged: boolean;
}): ReconcileDecision {
  if (facts.deleteQueued) return 'send-queued-delete';
  if (facts.deletePending) return 'await-delete';
  if ((facts.knownRevision ?? 0) !== (facts.syncedRevision ?? 0)) return 'pull';
  return facts.localChanged ? 'push' : 'settled';
}

/**
 * A socket `error` answer:
 * - `stale-base`: 412, only a restore names a base; the broadcast that moved the server
 *   is on its way. Not an error.
 * - `conflict`: 409 with the stored state: the three-way rule decides.
 * - `retry`: the server may take it later (rate limit, outage).
 * - `refused`: bad input (400, 413, ...): sending the same content again cannot help.
 * - `failed`: a 409 without the stored state: reported, not retried, but the content
 *   itself is not bad (a later change is sent).
 */
export type SaveErrorDecision = 'stale-base' | 'conflict' | 'retry' | 'refused' | 'failed';

export function decideSaveError(status: number, hasCurrent: boolean): SaveErrorDecision {
  if (status === 412) return 'stale-base';
  if (status === 409 && hasCurrent) return 'conflict';
  if (isRetryableStatus(status)) return 'retry';
  return status === 409 ? 'failed' : 'refused';
}

/** Whether a failed GET is worth asking again: an outage or a 5xx may improve, bad data not. */
export function isRetryablePullError(error: PersistenceError): boolean {
  return (
    error instanceof ServerUnreachableError ||
    error instanceof TokenError ||
    (error instanceof ServerRejectedError && isRetryableStatus(error.status))
  );
}
