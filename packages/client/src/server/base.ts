// What this client knows of the server's copy: the content last agreed with it (by
// reference, see content/refs.ts) and the revision it is stored at; the server's revision as
// far as known (revisions.ts); and the one copy of the server state that `patch`
// messages apply to; and the store epoch those revisions belong to. Bookkeeping only: the
// decisions are in decisions.ts and merge.ts. The agreed content is also kept as
// a state: it is the base of a merge.
import type { DashboardState } from '@hyvve/schema';
import type { ContentRefs } from '../content/refs.js';
import { sameContent } from '../content/refs.js';
import type { PersistenceLogger } from '../logger.js';
import type { ServerCopy } from './patch.js';
import { createServerRevisions, type ServerRevisions } from './revisions.js';

export interface SyncBase {
  readonly revisions: ServerRevisions;
  /**
   * Records `refs` as equal to the server's copy (at `revision`, when given); `state` is
   * that content as a state (the base of the next merge), null when not known.
   */
  agree(refs: ContentRefs, revision?: number, state?: DashboardState | null): void;
  /** The agreed content as a state, when known: the base of a three-way merge. */
  agreedState(): DashboardState | null;
  /** The server's revision to compare with on the next reconcile (content unchanged). */
  setSyncedRevision(revision: number): void;
  /** Whether `refs` is the content last agreed with the server. */
  isAgreed(refs: ContentRefs): boolean;
  /** The revision the agreed content is stored at, if known. */
  syncedRevision(): number | undefined;
  /** The agreed content's revision, if `refs` is that content. */
  revisionFor(refs: ContentRefs): number | undefined;
  /** The base for patches: one state, the last known to be stored. */
  copy(): ServerCopy | null;
  hold(copy: ServerCopy | null): void;
  /**
   * `ready`: the server's revision now. Revisions that went back make the copy of the past.
   * A new `epoch` (the store lost or reset its data) makes everything known of the server
   * of the past: the agreed content and revision are forgotten, so the next reconcile runs
   * as on a first connect. Returns whether that happened.
   */
  ready(revision: number, epoch: string | undefined): boolean;
  /** The store epoch the known revisions belong to, if the server named one. */
  epoch(): string | undefined;
  /** The epoch stored revisions belong to (from storage), unless one is known already. */
  assumeEpoch(epoch: string): void;
  /**
   * An answer named the epoch (`saved`, `delete-ack`): taken when none was known yet (the
   * counter was created by this save), so a later reset is recognised.
   */
  answeredEpoch(epoch: string | undefined): void;
  /** Records a broadcast's revision; false when it is stale (known, or superseded). */
  takeBroadcast(type: string, revision: number): boolean;
}

export function createSyncBase(logger: PersistenceLogger): SyncBase {
  const revisions = createServerRevisions();
  let synced: ContentRefs | null = null;
  let syncedState: DashboardState | null = null;
  let syncedRevision: number | undefined;
  let serverCopy: ServerCopy | null = null;
  let epoch: string | undefined;

  return {
    revisions,
    agree(refs, revision, state = null) {
      synced = refs;
      syncedState = state;
      if (revision !== undefined) syncedRevision = revision;
    },
    agreedState: () => syncedState,
    setSyncedRevision(revision) {
      syncedRevision = revision;
    },
    isAgreed: (refs) => sameContent(refs, synced),
    syncedRevision: () => syncedRevision,
    revisionFor: (refs) => (sameContent(refs, synced) ? syncedRevision : undefined),
    copy: () => serverCopy,
    hold(copy) {
      serverCopy = copy;
    },
    ready(revision, nextEpoch) {
      const knownRevision = revisions.known() ?? 0;
      revisions.ready(revision);
      const epochChanged = isNewEpoch(epoch, nextEpoch, revision < knownRevision);
      if (nextEpoch !== undefined && (nextEpoch !== '' || epochChanged)) epoch = nextEpoch;
      if (epochChanged) {
        logger.warn('server.epoch_changed', { revision, epoch: nextEpoch });
        synced = null;
        syncedState = null;
        syncedRevision = undefined;
        serverCopy = null;
        return true;
      }
      // Revisions went back: the server's store lost its data, the copy is of the past.
      if (serverCopy && revision < serverCopy.revision) serverCopy = null;
      return false;
    },
    epoch: () => epoch,
    assumeEpoch(stored) {
      epoch ??= stored;
    },
    answeredEpoch(answered) {
      if (answered !== undefined && (epoch === undefined || epoch === '')) epoch = answered;
    },
    takeBroadcast(type, revision) {
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
    },
  };
}

/**
 * Whether `next` (from `ready`) names another incarnation of the revision counter than the
 * one `known`. A server that names no epoch (older servers) never changes it; `''` is "no
 * counter yet", so '' → 'x' is the counter being created (revisions carry on from 0; the
 * server says so with a second `ready` to a socket it told ''), while 'x' → 'y' is the
 * counter reset. 'x' → '' is the counter lost only when the revision went back too: an
 * older server's instance that subscribed the channel before its counter was created
 * could still name '' while the counter is at, or past, the revision known, and taking
 * that for a reset would drop this client's merge base.
 */
export function isNewEpoch(
  known: string | undefined,
  next: string | undefined,
  revisionWentBack = true,
): boolean {
  if (known === undefined || known === '' || next === undefined || next === known) return false;
  return next !== '' || revisionWentBack;
}
