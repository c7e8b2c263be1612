// Patches an agent or service sends to change part of a stored state (PATCH and the
// socket's `patch-save`): RFC 7386 JSON Merge Patch and RFC 6902 JSON Patch. Applying
// them is pure and isomorphic; the server applies them to the stored state atomically.
import { z } from 'zod';
import { applyPatchOperation } from './json-patch.js';

/** `Content-Type` of an RFC 7386 JSON Merge Patch. */
export const MERGE_PATCH_CONTENT_TYPE = 'application/merge-patch+json';
/** `Content-Type` of an RFC 6902 JSON Patch. */
export const JSON_PATCH_CONTENT_TYPE = 'application/json-patch+json';

export type PatchContentType = typeof MERGE_PATCH_CONTENT_TYPE | typeof JSON_PATCH_CONTENT_TYPE;

const pointer = z.string().max(1024);

/** An RFC 6902 document: every operation of the RFC (add, remove, replace, move, copy, test). */
export const jsonPatchDocumentSchema = z
  .array(
    z.discriminatedUnion('op', [
      z.object({ op: z.literal('add'), path: pointer, value: z.unknown() }),
      z.object({ op: z.literal('remove'), path: pointer }),
      z.object({ op: z.literal('replace'), path: pointer, value: z.unknown() }),
      z.object({ op: z.literal('move'), from: pointer, path: pointer }),
      z.object({ op: z.literal('copy'), from: pointer, path: pointer }),
      z.object({ op: z.literal('test'), path: pointer, value: z.unknown() }),
    ]),
  )
  .max(10_000);

export type JsonPatchDocument = z.infer<typeof jsonPatchDocumentSchema>;

/** A patch with the format it is written in. */
export type StatePatchRequest =
  | { contentType: typeof MERGE_PATCH_CONTENT_TYPE; patch: unknown }
  | { contentType: typeof JSON_PATCH_CONTENT_TYPE; patch: JsonPatchDocument };

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/**
 * RFC 7386: `patch` applied to `target`, as a new value (`target` is not changed). An
 * object patch merges key by key, `null` removes a key, anything else (arrays included)
 * replaces the value as a whole.
 */
export function applyMergePatch(target: unknown, patch: unknown): unknown {
  if (!isObject(patch)) return patch;
  const result: Record<string, unknown> = isObject(target) ? { ...target } : {};
  for (const [key, value] of Object.entries(patch)) {
    // Never let a patch key reach an object's prototype.
    if (key === '__proto__') continue;
    if (value === null) delete result[key];
    else result[key] = applyMergePatch(result[key], value);
  }
  return result;
}

/**
 * RFC 6902: `operations` applied in order to a copy of `document`; the first one that
 * does not apply (a path that is not there, a failed `test`) throws StatePatchError
 * naming it, and nothing is changed.
 */
export function applyJsonPatch(document: unknown, operations: JsonPatchDocument): unknown {
  let result: unknown = structuredClone(document);
  for (const [index, operation] of operations.entries()) {
    result = applyPatchOperation(result, operation, index);
  }
  return result;
}

/** The patched value for either format. */
export function applyStatePatchRequest(document: unknown, request: StatePatchRequest): unknown {
  return request.contentType === MERGE_PATCH_CONTENT_TYPE
    ? applyMergePatch(document, request.patch)
    : applyJsonPatch(document, request.patch);
}
