// Which server messages are news. The server's revision only grows, except when its store
// loses its data and the counter starts again. The client learns revisions from two kinds
// of message on one socket: broadcasts (`state`, `patch`, `deleted`), which the server
// sends in revision order, and answers to its own requests (`saved`, `delete-ack`, a 409),
// which can overtake a broadcast still on its way through pub/sub. So a broadcast is:
// - above every revision known                    -> news;
// - below the previous broadcast                  -> a reset (the server's counter went
//                                                    back, as `ready` can also show): news;
// - anything else                                 -> stale: a duplicate, its own echo, or
//                                                    a change older than a save already
//                                                    acknowledged. Applying it would go back.

export type RevisionVerdict = 'new' | 'reset' | 'stale';

export interface ServerRevisions {
  /** The highest revision the server is known to be at; undefined before the first `ready`. */
  known(): number | undefined;
  /** `ready`: the server's revision now, whatever was known before (it may be lower). */
  ready(revision: number): void;
  /** An answer to this client's own request. */
  answered(revision: number): void;
  /** A broadcast: records it and says whether it is news. */
  broadcast(revision: number): RevisionVerdict;
}

export function createServerRevisions(): ServerRevisions {
  let known: number | undefined;
  // Broadcasts on one socket only grow: `ready` states where they start from.
  let lastBroadcast = 0;
  return {
    known: () => known,
    ready(revision) {
      known = revision;
      lastBroadcast = revision;
    },
    answered(revision) {
      known = Math.max(known ?? 0, revision);
    },
    broadcast(revision) {
      const verdict: RevisionVerdict =
        known === undefined || revision > known
          ? 'new'
          : revision < lastBroadcast
            ? 'reset'
            : 'stale';
      lastBroadcast = revision;
      if (verdict !== 'stale') known = revision;
      return verdict;
    },
  };
}
