// Every Redis key and channel name is built here, and only from ids that passed
// ID_PATTERN, so no caller can name another user's key or inject `:`/`*` into one.
// Each name carries one hash tag, `{workspaceId:userId}`, so a user's state, counter and
// channel share one Redis Cluster slot: the save script may touch all three (no CROSSSLOT),
// and SPUBLISH/SSUBSCRIBE reach the shard that owns them. On one Redis the tag changes nothing.
import { ID_PATTERN } from '@hyvve/schema';
import { InvalidIdError } from './errors.js';

/** The workspace + user a state belongs to, with the names derived from them. */
export interface StateScope {
  readonly workspaceId: string;
  readonly userId: string;
  /** `dashboard:state:{workspaceId:userId}`: the `state` message of the stored revision (store/redis/stored-message.ts). */
  readonly stateKey: string;
  /** `dashboard:state:revision:{workspaceId:userId}`: the revision counter, written by a delete so it survives it. */
  readonly revisionKey: string;
  /** `dashboard:state:channel:{workspaceId:userId}`: pub/sub channel of that user's changes. */
  readonly channel: string;
  /**
   * `dashboard:ratelimit:user:{workspaceId:userId}`: the user's token bucket, spent by the
   * scripts in the same call as the save, read or delete (same tag: same slot).
   */
  readonly userBucketKey: string;
  /**
   * The untagged names of versions before the hash tag (`dashboard:state:<wid>:<uid>` and
   * `dashboard:state:revision:<wid>:<uid>`): read when the tagged ones hold nothing, and
   * removed by the next save or delete, which moves the user to the tagged names.
   */
  readonly legacyStateKey: string;
  readonly legacyRevisionKey: string;
}

export function isValidId(value: unknown): value is string {
  return typeof value === 'string' && ID_PATTERN.test(value);
}

/** Whose state: the workspace and user ids (a `StateScope` is one too). */
export interface StateOwner {
  readonly workspaceId: string;
  readonly userId: string;
}

// Scopes built here, so a scope passed back in is not checked again (and a look-alike
// object is never trusted).
const builtScopes = new WeakSet<object>();

function isBuiltScope(owner: StateOwner): owner is StateScope {
  return builtScopes.has(owner);
}

/** Checks both ids and builds the scope; throws `InvalidIdError` naming the bad one. */
export function stateScope(workspaceId: string, userId: string): StateScope {
  if (!isValidId(workspaceId)) throw new InvalidIdError('workspaceId', String(workspaceId));
  if (!isValidId(userId)) throw new InvalidIdError('userId', String(userId));
  const suffix = `${workspaceId}:${userId}`;
  const tag = `{${suffix}}`;
  const scope: StateScope = {
    workspaceId,
    userId,
    stateKey: `dashboard:state:${tag}`,
    revisionKey: `dashboard:state:revision:${tag}`,
    channel: `dashboard:state:channel:${tag}`,
    userBucketKey: `dashboard:ratelimit:user:${tag}`,
    legacyStateKey: `dashboard:state:${suffix}`,
    legacyRevisionKey: `dashboard:state:revision:${suffix}`,
  };
  builtScopes.add(scope);
  return scope;
}

/** The scope of an owner, reusing it when the owner already is a checked scope. */
export function toScope(owner: StateOwner): StateScope {
  if (isBuiltScope(owner)) return owner;
  return stateScope(owner.workspaceId, owner.userId);
}
