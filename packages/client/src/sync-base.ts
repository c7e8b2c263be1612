// What this client knows of the server's copy: the content last agreed with it (by
// reference, see content.ts) and the revision it is stored at; the server's revision as
// far as known (server-revision.ts); and the one copy of the server state that `patch`
// messages apply to. Bookkeeping only: the decisions are in sync-decisions.ts.
import type { ContentRefs } from './content.js';
import { sameContent } from './content.js';
import type { PersistenceLogger } from './logger.js';
import type { ServerCopy } from './server-patch.js';
import { createServerRevisions, type ServerRevisions } from './server-revision.js';

export interface SyncBase {
  readonly revisions: ServerRevisions;
  /** Records `refs` as equal to the server's copy (at `revision`, when given). */
  agree(refs: ContentRefs, revision?: number): void;
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
  /** `ready`: the server's revision now. Revisions that went back make the copy of the past. */
  ready(revision: number): void;
  /** Records a broadcast's revision; false when it is stale (known, or superseded). */
  takeBroadcast(type: string, revision: number): boolean;
}

export function createSyncBase(logger: PersistenceLogger): SyncBase {
  const revisions = createServerRevisions();
  let synced: ContentRefs | null = null;
  let syncedRevision: number | undefined;
  let serverCopy: ServerCopy | null = null;

  return {
    revisions,
    agree(refs, revision) {
      synced = refs;
      if (revision !== undefined) syncedRevision = revision;
    },
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
    ready(revision) {
      revisions.ready(revision);
      // Revisions went back: the server's store lost its data, the copy is of the past.
      if (serverCopy && revision < serverCopy.revision) serverCopy = null;
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
