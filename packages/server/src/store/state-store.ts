// The storage contract the persistence service runs on. Two implementations share its
// semantics (TTL, revisions that only grow, atomic conditional saves, pub/sub) and one
// behavioural test suite: RedisStateStore (multi-instance) and MemoryStateStore (embedded).

import type { ChannelEvent } from '../channel/channel-event.js';
import type { BucketRate } from '../rate-limit/token-buckets.js';
import type { StateScope } from '../scope.js';

/** A stored state, kept as the JSON text it was saved as (it is sent on as is). */
export interface StoredRecord {
  /** JSON of the persistable state, validated when it was saved. */
  stateJson: string;
  revision: number;
  /** Server time of the save, ms since epoch. */
  savedAt: number;
  /** `version` of the stored state: anything but STATE_VERSION needs a migration on read. */
  version: number;
  /** Origin the save was made with (an engine id, `http`, ...). */
  origin: string;
}

/**
 * Where a user's revision counter is: its revision, and its epoch, an opaque id of this
 * incarnation of the counter (Redis TIME when the counter key was created; a random id
 * in the memory store). Revisions only grow within an epoch, across deletes and TTL
 * expiry (the counter outlives the state). A new epoch means the counter was lost (the
 * store lost its data, or nobody saved for twice the TTL) and revisions started over.
 * '' = no counter yet (nothing was ever stored, or it was written before epochs existed).
 */
export interface ChannelHead {
  revision: number;
  epoch: string;
}

/** A stored record with the epoch of the counter it was read with. */
export interface LoadedRecord extends StoredRecord {
  epoch: string;
}

export interface SaveRequest {
  /** JSON of the validated, persistable state: serialised once, sent to the store once. */
  stateJson: string;
  /**
   * The state `stateJson` encodes (read-only): a store that publishes to other instances
   * diffs it against the channel's previous state once, for all of them (channel-patch.ts).
   */
  state?: object;
  /** `state.timestamp`: an older one than stored loses (newer wins). */
  timestamp: number;
  version: number;
  savedAt: number;
  origin: string;
  ttlSeconds: number;
  /** Save only if the current revision equals this one (`If-Match` / `baseRevision`). */
  ifMatch?: number;
  /** With `ifMatch`: the epoch must be this one too (an If-Match of the `"<epoch>.<rev>"` form). */
  ifMatchEpoch?: string;
  /**
   * Skip the newer-wins check: only to replace a stored state that cannot be read (it
   * is treated as absent everywhere else), always together with `ifMatch`.
   */
  replaceNewer?: boolean;
  /**
   * The user's limit, spent in the same atomic step before anything else (one round trip):
   * when the bucket is empty nothing is saved and RateLimitedError names the wait.
   */
  limit?: BucketRate;
}

export type SaveOutcome =
  | { status: 'saved'; revision: number; savedAt: number; epoch: string }
  /** `ifMatch` did not match; `revision` and `epoch` are the current ones. */
  | { status: 'stale'; revision: number; epoch: string }
  /** A newer state is stored; it is returned so the caller can adopt it. */
  | { status: 'conflict'; current: StoredRecord };

export interface DeleteRequest {
  ttlSeconds: number;
  origin?: string;
  /** The user's limit, spent in the same step (see SaveRequest.limit). */
  limit?: BucketRate;
}

export interface DeleteOutcome {
  /** False when nothing was stored (then nothing was published either). */
  deleted: boolean;
  /** The revision after the delete (the bumped one, or the current one if nothing was stored). */
  revision: number;
  epoch: string;
}

export type ChannelListener = (event: ChannelEvent) => void;

/**
 * Told when the channel's counter was reset (a new epoch, or revisions went back: the
 * store lost data): what listeners held belongs to the old store. Any current state
 * follows as an ordinary event.
 */
export type ResetListener = (head: ChannelHead) => void;

/**
 * Told when the channel's epoch, unknown ('') when the listener was attached (no counter
 * yet), became known: `head` names it with the revision delivered so far. Not a reset:
 * the revisions delivered belong to that counter (it was created by the change that made
 * it known, or an epoch-less counter of before epochs was given one).
 */
export type EpochListener = (head: ChannelHead) => void;

/** `up` while the store answers and every channel is caught up; `down` from losing it until then. */
export type StoreStatus = 'up' | 'down';

export interface Subscription {
  /**
   * Revision of the channel when the listener was attached: every later change reaches
   * the listener. 0 when nothing was ever stored (or everything expired).
   */
  readonly revision: number;
  /** Epoch of the channel's counter then ('' when there is none yet). */
  readonly epoch: string;
  unsubscribe(): Promise<void>;
}

export interface StateStore {
  /** `redis`, `redis-cluster` or `memory`, for logs and `/readyz`. */
  readonly kind: 'redis' | 'redis-cluster' | 'memory';
  /** The stored record; with `limit`, one token of the user's bucket is spent in the same step. */
  load(scope: StateScope, limit?: BucketRate): Promise<LoadedRecord | null>;
  /**
   * Spends one token of the user's bucket (the one saves, reads and deletes spend from),
   * for a request that reaches no other store call. Rejects with RateLimitedError when
   * it is empty. One command on Redis.
   */
  spendToken(scope: StateScope, limit: BucketRate): Promise<void>;
  /** The current revision counter (it survives a delete); 0 when nothing is known. */
  revision(scope: StateScope): Promise<number>;
  /**
   * One atomic step: the user's limit (RateLimitedError), If-Match check, newer-wins check,
   * revision bump, write with TTL, publish.
   */
  save(scope: StateScope, request: SaveRequest): Promise<SaveOutcome>;
  /** Removes the state, bumps the revision and publishes `deleted` (if something was stored). */
  delete(scope: StateScope, request: DeleteRequest): Promise<DeleteOutcome>;
  /** Attaches a listener to the user's channel; one store subscription per channel is shared. */
  subscribe(
    scope: StateScope,
    listener: ChannelListener,
    onReset?: ResetListener,
    onEpoch?: EpochListener,
  ): Promise<Subscription>;
  /** True when the store answers right now. */
  ready(): Promise<boolean>;
  /** Whether the store is reachable and caught up, as last seen (no round trip). */
  status(): StoreStatus;
  /** Calls `listener` on every change of `status()`; returns the unsubscribe. */
  onStatus(listener: (status: StoreStatus) => void): () => void;
  /** Closes connections and timers. Safe to call twice. */
  close(): Promise<void>;
}
