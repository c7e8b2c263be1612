// PATCH for agents and services: a patch is applied to the stored state and saved with
// If-Match on the revision it was applied to, so a save that got in between is never
// overwritten: the patch is then applied again to the newer state (bounded retries).
// The result is validated, size-checked and published as any save is.
import { setTimeout as sleep } from 'node:timers/promises';
import {
  applyStatePatchRequest,
  formatPath,
  JSON_PATCH_CONTENT_TYPE,
  jsonPatchDocumentSchema,
  MERGE_PATCH_CONTENT_TYPE,
  type PatchContentType,
  StatePatchError,
  type StatePatchRequest,
  type StoredState,
} from '@hyvve/schema';
import {
  InvalidRequestError,
  InvalidStateError,
  PatchConflictError,
  PatchContentionError,
  StaleRevisionError,
  StateConflictError,
  StateNotFoundError,
} from '../errors.js';
import type { StateOwner } from '../scope.js';
import type { SaveOptions, SaveResult } from './service-types.js';

/** Attempts before a patch of a state that keeps changing gives up (409). */
export const MAX_PATCH_ATTEMPTS = 10;
/** Longest random pause before a retry: writers that raced spread out instead of racing again. */
const MAX_RETRY_PAUSE_MS = 40;

export interface PatchOptions {
  /** Apply only to this stored revision (`If-Match` / `baseRevision`), else 412; no retries. */
  ifMatch?: number;
  /** With `ifMatch`: the revision counter's epoch must be this one too (`"<epoch>.<rev>"`). */
  ifMatchEpoch?: string;
  /** Id of the writer, published with the change. */
  origin?: string;
}

/** What the patch loop needs of the service. */
export interface PatchTarget {
  load(owner: StateOwner): Promise<StoredState | null>;
  /** The newest state this instance knows of the user without asking the store, if any. */
  known(owner: StateOwner): (StoredState & { epoch: string }) | undefined;
  save(owner: StateOwner, state: unknown, options: SaveOptions): Promise<SaveResult>;
  now(): number;
}

/**
 * A received patch checked for its format: a merge patch is a JSON object, a JSON Patch
 * an array of RFC 6902 operations. Throws InvalidRequestError naming what is wrong.
 */
export function toPatchRequest(contentType: PatchContentType, patch: unknown): StatePatchRequest {
  if (contentType === MERGE_PATCH_CONTENT_TYPE) {
    if (typeof patch !== 'object' || patch === null || Array.isArray(patch)) {
      throw new InvalidRequestError('a merge patch (RFC 7386) of a state must be a JSON object');
    }
    return { contentType, patch };
  }
  const parsed = jsonPatchDocumentSchema.safeParse(patch);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    const where = issue ? `${formatPath(issue.path)}: ${issue.message}` : 'unknown shape';
    throw new InvalidRequestError(`invalid JSON Patch (RFC 6902) at ${where}`);
  }
  return { contentType: JSON_PATCH_CONTENT_TYPE, patch: parsed.data };
}

/**
 * Applies `request` to the stored state and saves the result atomically against
 * concurrent saves. Throws StateNotFoundError (nothing stored: a patch needs a state to
 * apply to), StaleRevisionError (`ifMatch` is not the stored revision), PatchConflictError
 * (the patch does not apply to the stored state, e.g. a failed `test`), PatchContentionError
 * (the state changed on every attempt), and whatever a save throws (400, 413, 503).
 */
export async function applyPatch(
  target: PatchTarget,
  owner: StateOwner,
  request: StatePatchRequest,
  options: PatchOptions = {},
): Promise<SaveResult> {
  const fromKnown = await patchKnown(target, owner, request, options);
  if (fromKnown !== undefined) return fromKnown;
  for (let attempt = 1; ; attempt++) {
    const stored = await target.load(owner);
    if (!stored) throw new StateNotFoundError();
    if (options.ifMatch !== undefined && options.ifMatch !== stored.revision) {
      throw new StaleRevisionError(options.ifMatch, stored.revision);
    }
    const patched = patchedState(stored, request, target.now());
    try {
      return await target.save(owner, patched, {
        ifMatch: stored.revision,
        ...(options.ifMatch === undefined || options.ifMatchEpoch === undefined
          ? {}
          : { ifMatchEpoch: options.ifMatchEpoch }),
        ...(options.origin === undefined ? {} : { origin: options.origin }),
      });
    } catch (error) {
      // Another save got in after the load: apply the patch to that one instead.
      const raced = error instanceof StaleRevisionError || error instanceof StateConflictError;
      if (!raced || options.ifMatch !== undefined) throw error;
      if (attempt >= MAX_PATCH_ATTEMPTS) throw new PatchContentionError(attempt);
      await sleep(Math.random() * Math.min(MAX_RETRY_PAUSE_MS, 2 ** attempt));
    }
  }
}

/** Errors a patch of a state known here may meet only because that state is no longer current. */
function maybeOutdated(error: unknown): boolean {
  return (
    error instanceof StaleRevisionError ||
    error instanceof StateConflictError ||
    error instanceof PatchConflictError ||
    error instanceof InvalidStateError
  );
}

/**
 * The patch applied to the state this instance knows (no store read), saved with If-Match
 * on its revision and epoch: the store's check proves it current. Undefined when there is
 * no such state, or the attempt met what an outdated base could cause (the caller then
 * reads the store and applies the patch to what it holds).
 */
async function patchKnown(
  target: PatchTarget,
  owner: StateOwner,
  request: StatePatchRequest,
  options: PatchOptions,
): Promise<SaveResult | undefined> {
  const known = target.known(owner);
  if (known === undefined || known.epoch === '') return undefined;
  if (options.ifMatch !== undefined && options.ifMatch !== known.revision) return undefined;
  if (options.ifMatchEpoch !== undefined && options.ifMatchEpoch !== known.epoch) return undefined;
  try {
    const patched = patchedState(known, request, target.now());
    return await target.save(owner, patched, {
      ifMatch: known.revision,
      ifMatchEpoch: known.epoch,
      ...(options.origin === undefined ? {} : { origin: options.origin }),
    });
  } catch (error) {
    if (maybeOutdated(error)) return undefined;
    throw error;
  }
}

/**
 * The stored state with the patch applied and a `timestamp` no older than the stored
 * one (nor than now), so newer-wins never refuses the patch of a current state.
 */
function patchedState(stored: StoredState, request: StatePatchRequest, now: number): unknown {
  let patched: unknown;
  try {
    patched = applyStatePatchRequest(stored.state, request);
  } catch (error) {
    if (error instanceof StatePatchError) throw new PatchConflictError(error.message, stored);
    throw error;
  }
  if (typeof patched !== 'object' || patched === null || Array.isArray(patched)) return patched;
  const record = patched as Record<string, unknown>;
  const asked = record.timestamp;
  if (typeof asked !== 'number') return patched;
  return { ...record, timestamp: Math.max(asked, stored.state.timestamp, now) };
}
