// Deltas of a stored state for WebSocket subscribers that ask for them (`?patches=1`).
// A dashboard change usually touches one widget of a state of 10 KB to 1 MB; sending the
// whole state to every open screen of a user costs each socket a kernel copy of all of it
// and each client a parse of all of it. A patch is RFC 6902 JSON Patch (add / remove /
// replace) from the state at `baseRevision` to the one at `revision`. Diffing and applying
// are fast-json-patch's, a well-kept implementation of the RFC; what is ours is when a
// patch is sent (server) and what a client does when it holds another base (refetch).
import type { Operation } from 'fast-json-patch';
// The library's ES modules of the operations alone (see fast-json-patch-core.d.ts): its
// package entry also brings the diffing half (state-diff.ts), which browsers never run.
import { applyOperation } from 'fast-json-patch/module/core.mjs';
import { unescapePathComponent } from 'fast-json-patch/module/helpers.mjs';

export type StatePatchOperation =
  | { op: 'add'; path: string; value: unknown }
  | { op: 'remove'; path: string }
  | { op: 'replace'; path: string; value: unknown };

export type StatePatch = StatePatchOperation[];

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
 * `base` with `patch` applied, as a new value; `base` and everything reachable from it are
 * not changed (it may be frozen). Unchanged subtrees are shared with `base`, so the result
 * must be treated as read-only too. Every operation is checked against the document; a
 * path that does not exist throws `StatePatchError`. The result is unchecked JSON:
 * validate it as a state before use.
 */
export function applyStatePatch(base: unknown, patch: StatePatch): unknown {
  if (base === null || typeof base !== 'object') {
    throw new StatePatchError('a patch applies to an object state');
  }
  // Copy-on-write: cloning the whole base costs more than parsing it, for a patch that
  // usually changes one value. Each operation first copies the containers on its path
  // (each at most once per call), then the library applies it to those copies.
  const copies = new Set<object>();
  let document: unknown = base;
  // One operation at a time, so a failure names the operation that failed.
  for (const [index, operation] of patch.entries()) {
    try {
      document = copyPathForWrite(document, operation.path, copies);
    } catch (error) {
      throw operationError(operation, index, error);
    }
    document = applyPatchOperation(document, operation, index);
  }
  return document;
}

/** The StatePatchError naming operation `index` of a patch and why it does not apply. */
function operationError(operation: { op: string; path: string }, index: number, error: unknown) {
  const reason = error instanceof Error ? error.message.split('\n')[0] : String(error);
  return new StatePatchError(
    `patch operation ${index} (${operation.op} ${operation.path}) does not apply: ${reason}`,
    index,
    { cause: error },
  );
}

/**
 * Operation `index` of an RFC 6902 patch applied to `document` (validated, in place where
 * the operation writes): fast-json-patch's, with a failure named as the operation's.
 */
export function applyPatchOperation(
  document: unknown,
  operation: Operation,
  index: number,
): unknown {
  try {
    return applyOperation(document, operation, true, true, true, index).newDocument;
  } catch (error) {
    throw operationError(operation, index, error);
  }
}

type Container = Record<string, unknown> | unknown[];

function isContainer(value: unknown): value is Container {
  return value !== null && typeof value === 'object';
}

/**
 * `document` with the root and every container on `path` down to the target's parent
 * replaced by a shallow copy owned by this call (recorded in `copies`), so an operation at
 * `path` mutates only copies. The walk stops where the path leaves existing containers;
 * `applyOperation` then throws on that remainder before writing anything.
 */
function copyPathForWrite(document: unknown, path: string, copies: Set<object>): unknown {
  // Root operations replace the document without writing into it.
  if (!path.startsWith('/') || !isContainer(document)) return document;
  const root = ownCopy(document, copies);
  const keys = path.split('/');
  let parent = root;
  // keys[0] is the empty string before the first '/'; the last key is the target.
  for (let t = 1; t < keys.length - 1; t++) {
    const key = unescapePathComponent(keys[t] ?? '');
    // The library refuses these; copying through `__proto__` would set a prototype.
    if (key === '__proto__' || (key === 'prototype' && keys[t - 1] === 'constructor')) break;
    const slot = childSlot(parent, key);
    if (slot === undefined) break;
    const child: unknown = Array.isArray(parent) ? parent[slot as number] : parent[slot];
    if (!isContainer(child)) break;
    const copy = ownCopy(child, copies);
    if (copy !== child) {
      if (Array.isArray(parent)) parent[slot as number] = copy;
      else parent[slot] = copy;
    }
    parent = copy;
  }
  return root;
}

/** `container` itself when this call already copied it, else a new shallow copy. */
function ownCopy(container: Container, copies: Set<object>): Container {
  if (copies.has(container)) return container;
  const copy = Array.isArray(container) ? container.slice() : { ...container };
  copies.add(copy);
  return copy;
}

/**
 * Where `key` leads in `container`, read as fast-json-patch reads it (an array index is
 * digits only, converted with `~~`), so both walks reach the same child; `undefined` when
 * there is no own child there.
 */
function childSlot(container: Container, key: string): string | number | undefined {
  if (!Array.isArray(container)) return Object.hasOwn(container, key) ? key : undefined;
  if (!/^[0-9]*$/.test(key)) return undefined;
  const index = ~~key;
  return Object.hasOwn(container, index) ? index : undefined;
}
