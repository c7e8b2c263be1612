// Deltas of a stored state for WebSocket subscribers that ask for them (`?patches=1`).
// A dashboard change usually touches one widget of a state of 10 KB to 1 MB; sending the
// whole state to every open screen of a user costs each socket a kernel copy of all of it
// and each client a parse of all of it. A patch is RFC 6902 JSON Patch (add / remove /
// replace) from the state at `baseRevision` to the one at `revision`. The server diffs
// with fast-json-patch (state-diff.ts) and applies agents' RFC 6902 requests with it
// (json-patch.ts). The browser applies the server's patches with the few lines below: the
// library's operations module cost the client bundle 7.5 kB minified, 2.3 kB gzip
// (21.0 -> 18.8 kB, esbuild), for three operations whose copy-on-write walk was ours
// already. state-patch.property.test.ts holds this apply to the library's answers.
import { parsePointer } from './json-pointer.js';

export type StatePatchOperation =
  | { op: 'add'; path: string; value: unknown }
  | { op: 'remove'; path: string }
  | { op: 'replace'; path: string; value: unknown };

export type StatePatch = StatePatchOperation[];

/** A patch that does not apply to the state it was given (another base, or malformed). */
export class StatePatchError extends Error {
  /** Index of the operation that failed, when known. */
  // `declare`d and assigned (always, as the parameter property did): a class field would
  // also emit a field definition, bytes every page pays for.
  declare readonly operationIndex?: number | undefined;

  constructor(message: string, operationIndex?: number, options?: ErrorOptions) {
    super(message, options);
    this.operationIndex = operationIndex;
    this.name = 'StatePatchError';
  }
}

/** The StatePatchError naming operation `index` of a patch and why it does not apply. */
export function patchOperationError(
  operation: { op: string; path: string },
  index: number,
  error: unknown,
): StatePatchError {
  const reason = error instanceof Error ? error.message.split('\n')[0] : String(error);
  return new StatePatchError(
    `patch operation ${index} (${operation.op} ${operation.path}) does not apply: ${reason}`,
    index,
    { cause: error },
  );
}

/**
 * `base` with `patch` applied, as a new value; `base` and everything reachable from it are
 * not changed (it may be frozen). Unchanged subtrees are shared with `base`, so the result
 * must be treated as read-only too. Every operation is checked against the document; a
 * path that does not exist throws `StatePatchError`. The result is unchecked JSON:
 * validate it as a state before use.
 */
export function applyStatePatch(base: unknown, patch: StatePatch): unknown {
  if (!isContainer(base)) throw new StatePatchError('a patch applies to an object state');
  // Copy-on-write: cloning the whole base costs more than parsing it, for a patch that
  // usually changes one value. Each operation copies the containers on its path, each at
  // most once per call, and writes only into those copies.
  const copies = new Set<object>();
  let document: unknown = base;
  // One operation at a time, so a failure names the operation that failed.
  for (const [index, operation] of patch.entries()) {
    try {
      document = applyOperation(document, operation, copies);
    } catch (error) {
      throw patchOperationError(operation, index, error);
    }
  }
  return document;
}

type Container = Record<string, unknown> | unknown[];

function isContainer(value: unknown): value is Container {
  return value !== null && typeof value === 'object';
}

/** RFC 6901 array index: `0` or digits without a leading zero. */
const ARRAY_INDEX = /^(0|[1-9]\d*)$/;

/** Whether `key` names an own value of `container` (of an array, by its index). */
function has(container: Container, key: string): boolean {
  return Object.hasOwn(container, key) && (!Array.isArray(container) || ARRAY_INDEX.test(key));
}

/**
 * `document` with `operation` applied. The root and every container on the path down to
 * the target's parent are first replaced by copies owned by this call (in `copies`), so
 * only those copies are written; a path that leaves the document throws before any write.
 */
function applyOperation(
  document: unknown,
  operation: StatePatchOperation,
  copies: Set<object>,
): unknown {
  const { op, path, value } = operation as { op: string; path: string; value?: unknown };
  const keys = parsePointer(path);
  // Root operations replace the document without writing into it (a removed root is null).
  if (keys.length === 0) return op === 'remove' ? null : value;
  for (const [depth, key] of keys.entries()) {
    if (key === '__proto__' || (key === 'prototype' && keys[depth - 1] === 'constructor')) {
      throw new Error('writing through __proto__ or constructor/prototype is banned');
    }
  }
  const notThere = new Error('its path is not in the document');
  if (!isContainer(document)) throw notThere;
  const root = ownCopy(document, copies);
  let parent = root;
  const key = keys.pop() as string;
  for (const step of keys) {
    const child = has(parent, step) ? (parent as Record<string, unknown>)[step] : undefined;
    if (!isContainer(child)) throw notThere;
    const copy = ownCopy(child, copies);
    (parent as Record<string, unknown>)[step] = copy;
    parent = copy;
  }
  if (op !== 'add' && !has(parent, key)) throw notThere;
  if (!Array.isArray(parent)) {
    if (op === 'remove') delete parent[key];
    else parent[key] = value;
  } else if (op === 'replace') {
    parent[Number(key)] = value;
  } else if (op === 'remove') {
    parent.splice(Number(key), 1);
  } else {
    // `-` appends; an index may be one past the end, never further.
    const index = key === '-' ? parent.length : ARRAY_INDEX.test(key) ? Number(key) : NaN;
    if (!(index <= parent.length)) throw notThere;
    parent.splice(index, 0, value);
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
