// Deltas of a stored state for WebSocket subscribers that ask for them (`?patches=1`).
// A dashboard change usually touches one widget of a state of 10 KB to 1 MB; sending the
// whole state to every open screen of a user costs each socket a kernel copy of all of it
// and each client a parse of all of it. A patch is RFC 6902 JSON Patch (add / remove /
// replace) from the state at `baseRevision` to the one at `revision`. Diffing and applying
// are fast-json-patch's, a well-kept implementation of the RFC; what is ours is when a
// patch is sent (server) and what a client does when it holds another base (refetch).
import jsonPatch from 'fast-json-patch';
import { z } from 'zod';

export type StatePatchOperation =
  | { op: 'add'; path: string; value: unknown }
  | { op: 'remove'; path: string }
  | { op: 'replace'; path: string; value: unknown };

export type StatePatch = StatePatchOperation[];

const pointer = z.string().max(1024);

export const statePatchSchema = z.array(
  z.discriminatedUnion('op', [
    z.object({ op: z.literal('add'), path: pointer, value: z.unknown() }),
    z.object({ op: z.literal('remove'), path: pointer }),
    z.object({ op: z.literal('replace'), path: pointer, value: z.unknown() }),
  ]),
);

/** A patch that does not apply to the state it was given (another base, or malformed). */
export class StatePatchError extends Error {
  constructor(
    message: string,
    /** Index of the operation that failed, when known. */
    readonly operationIndex?: number,
    options?: ErrorOptions,
  ) {
    super(message, options);
    this.name = 'StatePatchError';
  }
}

/**
 * Operations that turn `previous` into `next` (both plain JSON values, e.g. parsed
 * states). Arrays are compared by index, so an item inserted at the front of a long list
 * yields a long patch: callers compare its size with the full state's.
 */
export function diffStates(previous: object, next: object): StatePatch {
  // Without `invertible` compare emits only add / remove / replace.
  return jsonPatch.compare(previous, next) as StatePatch;
}

/**
 * `base` with `patch` applied, as a new value (`base` is not changed). Every operation is
 * checked against the document; a path that does not exist throws `StatePatchError`.
 * The result is unchecked JSON: validate it as a state before use.
 */
export function applyStatePatch(base: unknown, patch: StatePatch): unknown {
  if (base === null || typeof base !== 'object') {
    throw new StatePatchError('a patch applies to an object state');
  }
  // One operation at a time on a copy, so a failure names the operation that failed.
  let document: unknown = jsonPatch.deepClone(base);
  for (const [index, operation] of patch.entries()) {
    try {
      document = jsonPatch.applyOperation(document, operation, true, true, true, index).newDocument;
    } catch (error) {
      const reason = error instanceof Error ? error.message.split('\n')[0] : String(error);
      throw new StatePatchError(
        `patch operation ${index} (${operation.op} ${operation.path}) does not apply: ${reason}`,
        index,
        { cause: error },
      );
    }
  }
  return document;
}
