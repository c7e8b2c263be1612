// Any RFC 6902 operation (add, remove, replace, move, copy, test) applied with
// fast-json-patch: the server's PATCH requests (merge-patch.ts). The browser never applies
// these; it applies the server's state patches with state-patch.ts.
import type { Operation } from 'fast-json-patch';
// The library's strict-mode ES module (see fast-json-patch-core.d.ts).
import { applyOperation } from 'fast-json-patch/module/core.mjs';
import { patchOperationError } from './state-patch.js';

/**
 * Operation `index` of an RFC 6902 patch applied to `document` (validated, in place where
 * the operation writes), with a failure named as the operation's (StatePatchError).
 */
export function applyPatchOperation(
  document: unknown,
  operation: Operation,
  index: number,
): unknown {
  try {
    return applyOperation(document, operation, true, true, true, index).newDocument;
  } catch (error) {
    throw patchOperationError(operation, index, error);
  }
}
