// Changes that come from the server: a broadcast (`state`, `patch`, `deleted`), a pulled
// copy (GET), the copy a 409 answer carries, an empty server. Each is put through the
// three-way rule: the agreed content is the one last known to equal the server's copy.
// Local unchanged since + server moved on → adopt; local changed + server unchanged →
// push; both changed → merge (merge.ts: per field against the agreed content, so neither
// side's edits are lost) and push the result.
//
// A `patch` broadcast is a JSON Patch against the previous revision, applied to the held
// server copy (patch.ts); one for another base, or one that does not apply, is answered
// with a GET of the full state. A broadcast older than what the client already knows is
// ignored (revisions.ts).
import type { DashboardState, MigrationTable } from '@hyvve/schema';
import {
  type ContentRefs,
  isEmptyDashboard,
  refsOf,
  sameContent,
  sameStateContent,
} from '../content/refs.js';
import { timestampAfter } from '../content/stamp.js';
import type { LocalContent } from '../engine/destination.js';
import type { PersistenceLogger } from '../logger.js';
import type { SyncBase } from './base.js';
import { decideEmptyServer, decideRemote } from './decisions.js';
import type { Deletes } from './deletes.js';
import type { FetchedState } from './fetch-state.js';
import type { SyncHealth } from './health.js';
import { baseWithLostSave } from './lost-save.js';
import { decideMerge } from './merge.js';
import type { Outbox } from './outbox.js';
import { applyServerPatch } from './patch.js';
import type { IncomingServerMessage } from './socket.js';

export type Broadcast = Extract<IncomingServerMessage, { type: 'state' | 'patch' | 'deleted' }>;

/** The state a 409 answer carries: what the server holds, newer than what was sent. */
export interface ConflictCopy {
  state: unknown;
  revision: number;
  savedAt: number;
}

export interface RemoteChangesContext {
  origin: string;
  local: LocalContent;
  base: SyncBase;
  outbox: Outbox;
  deletes: Pick<Deletes, 'isPending' | 'isQueued'>;
  health: SyncHealth;
  /** Asks for a GET of the full state. */
  requestPull(): void;
  /** The socket is ready and the server can store. */
  isReady(): boolean;
  migrations: MigrationTable | undefined;
  logger: PersistenceLogger;
}

export interface RemoteChanges {
  /** Whether the local content differs from the agreed one. */
  localChanged(): boolean;
  /** Records the content `refs` (if it is still in the store: with its state) as agreed. */
  agreeOnCurrent(refs: ContentRefs, revision?: number): void;
  /** Reports synced unless a save is still on its way. */
  settleIfIdle(): void;
  receiveBroadcast(message: Broadcast): void;
  /** The answer of a GET: the stored state, or null (404). */
  receivePulled(remote: FetchedState | null): void;
  /** A 409: the server holds something newer than what was sent. */
  receiveConflict(current: ConflictCopy): void;
  /**
   * A save in flight whose answer was lost with its socket (lost-save.ts): until the next
   * server copy is merged or adopted, what that copy holds of it is this device's own
   * history, not the other side's change. Null forgets it.
   */
  rememberLostSave(state: DashboardState | null): void;
}

export function createRemoteChanges(context: RemoteChangesContext): RemoteChanges {
  const { origin, local, base, outbox, health, logger } = context;
  let lostSave: DashboardState | null = null;

  const localChanged = (): boolean => !base.isAgreed(local.current().refs);

  const settleIfIdle = (): void => {
    if (!outbox.inFlight()) health.succeed();
  };

  const agreeOnCurrent = (refs: ContentRefs, revision?: number): void => {
    const current = local.current();
    base.agree(refs, revision, sameContent(refs, current.refs) ? current.state : null);
  };

  /**
   * Applies a server copy per the three-way rule; returns whether the store now holds it
   * as is (false: nothing to take, or local changes merged into it that must be pushed).
   */
  function consider(remote: FetchedState, remoteOrigin: string): boolean {
    const lost = lostSave;
    lostSave = null;
    const current = local.current();
    const changed = localChanged();
    const decision = decideRemote({
      localChanged: changed,
      local: current.stamp,
      remote: { timestamp: remote.state.timestamp, origin: remoteOrigin },
    });
    // Equal timestamps usually mean the same content, but two merges made in the same
    // millisecond on two devices differ: only equal content is agreed on as it is.
    if (decision === 'same' && sameStateContent(current.state, remote.state)) {
      base.agree(current.refs, remote.revision, current.state);
      return false;
    }
    if (changed) {
      const agreed = base.agreedState();
      const merge = decideMerge(
        {
          state: agreed && lost ? baseWithLostSave(agreed, lost, remote.state) : agreed,
          revision: base.syncedRevision(),
        },
        { state: current.state, origin: current.stamp.origin, unsynced: true },
        { state: remote.state, revision: remote.revision, origin: remoteOrigin },
      );
      if (merge.kind === 'merge') {
        // The server's copy becomes the base; the local content (merged) is pushed on it.
        base.agree(refsOf(remote.state), remote.revision, remote.state);
        if (!merge.keepsLocal || current.state.timestamp <= remote.state.timestamp) {
          const timestamp = timestampAfter(
            Date.now(),
            current.state.timestamp,
            remote.state.timestamp,
          );
          local.merged({ ...merge.state, timestamp });
        }
        logger.debug('server.merged', {
          revision: remote.revision,
          keptLocalAsIs: merge.keepsLocal,
        });
        return false;
      }
    }
    const refs = local.adopt(remote.state, {
      timestamp: remote.state.timestamp,
      origin: remoteOrigin,
    });
    base.agree(refs, remote.revision, remote.state);
    logger.debug('server.adopted', {
      revision: remote.revision,
      timestamp: remote.state.timestamp,
    });
    return true;
  }

  function serverHoldsNothing(): void {
    const known = base.revisions.known() ?? 0;
    const decision = decideEmptyServer({
      localEmpty: isEmptyDashboard(local.current().state),
      syncedRevision: base.syncedRevision(),
      knownRevision: known,
    });
    base.setSyncedRevision(known);
    if (decision === 'nothing-to-restore') agreeOnCurrent(local.current().refs);
    else if (decision === 'restore') outbox.send({ force: true, baseRevision: known });
    else {
      logger.debug('server.deleted_since_sync', { revision: known });
      agreeOnCurrent(local.cleared('deleted on another device'));
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
    if (!context.deletes.isPending() && !context.deletes.isQueued()) return false;
    logger.debug('server.broadcast_deferred_by_delete', { type, revision });
    return true;
  }

  function receiveBroadcast(message: Broadcast): void {
    if (!base.takeBroadcast(message.type, message.revision)) return;
    if (message.type === 'deleted') {
      base.hold(null);
      if (message.origin === origin) return;
      agreeOnCurrent(local.cleared('deleted on another device'), message.revision);
      return;
    }
    // Our own save, echoed: its ack holds the copy at this revision.
    if (message.origin === origin) return;
    if (deferredByDelete(message.type, message.revision)) return;
    if (message.type === 'state') {
      const state = local.check(message.state, 'server broadcast');
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
    context.requestPull();
  }

  function receivePulled(remote: FetchedState | null): void {
    if (!context.isReady()) return;
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

  function receiveConflict(current: ConflictCopy): void {
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
    const state = local.check(current.state, 'server conflict');
    if (!state) return;
    base.hold({ state, revision: current.revision });
    // 409: the server holds something newer than what we sent; we may have changed
    // again since, so the rule decides, not the status code.
    if (!consider({ state, revision: current.revision, savedAt: current.savedAt }, 'server')) {
      outbox.schedule();
    }
    health.succeed();
  }

  return {
    localChanged,
    agreeOnCurrent,
    settleIfIdle,
    receiveBroadcast,
    receivePulled,
    receiveConflict,
    rememberLostSave(state) {
      lostSave = state;
    },
  };
}
