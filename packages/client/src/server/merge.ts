// What the client does with a server copy that differs from what it last synced: a pure
// decision, (base, local, remote) → decision, so it is tested with tables, not sockets.
// The client merges instead of choosing (issue 12): with local changes the server has not
// seen, the result is the three-way merge of both against the last copy both agreed on
// (`mergeDashboardStates`), saved with the revision it was merged with as its base, so a
// save that got in meanwhile makes the server refuse it (412) and the client merges again.
import { type DashboardState, mergeDashboardStates } from '@hyvve/schema';
import { sameStateContent } from '../content/refs.js';

export interface LocalSide {
  state: DashboardState;
  /** Engine that made the local content. */
  origin: string;
  /** True when the local content differs from the last server copy it synced. */
  unsynced: boolean;
}

export interface RemoteSide {
  state: DashboardState;
  revision: number;
  origin: string;
}

export interface SyncedBase {
  /** The content last known to equal the server's copy, or null when unknown. */
  state: DashboardState | null;
  /** Its revision; undefined when never synced. */
  revision: number | undefined;
}

export type MergeDecision =
  /** Nothing local to keep: take the server's copy as is. */
  | { kind: 'adopt' }
  /**
   * Local changes survive the merge: put `state` in the store (unless `same` says it is
   * the local content already) and save it with `baseRevision` = the remote revision.
   */
  | { kind: 'merge'; state: DashboardState; keepsLocal: boolean }
  /** The merge gives exactly the server's copy: take it as synced. */
  | { kind: 'remote-wins' };

/**
 * Decides between adopting a server copy and merging it with local changes. The newer
 * side of a value changed on both is the one based on the later server revision (the
 * remote copy was written on top of at most `remote.revision - 1`; local changes on top
 * of `base.revision`), then the later timestamp, then the origin.
 */
export function decideMerge(base: SyncedBase, local: LocalSide, remote: RemoteSide): MergeDecision {
  if (!local.unsynced) return { kind: 'adopt' };
  const localBase = base.revision ?? 0;
  // Revisions order the two only within one known counter. Without an agreed revision
  // (first connect, a new epoch) or with a remote copy at or below it (a counter that
  // started again), the revisions say nothing about order: the clocks decide.
  const remoteBase =
    base.revision !== undefined && remote.revision > localBase ? remote.revision - 1 : localBase;
  const merged = mergeDashboardStates(base.state, local.state, remote.state, {
    local: { basedOnRevision: localBase, origin: local.origin },
    remote: { basedOnRevision: remoteBase, origin: remote.origin },
  });
  if (sameStateContent(merged, local.state)) {
    return { kind: 'merge', state: local.state, keepsLocal: true };
  }
  if (sameStateContent(merged, remote.state)) return { kind: 'remote-wins' };
  return { kind: 'merge', state: merged, keepsLocal: false };
}
