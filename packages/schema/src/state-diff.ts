// Diffing two states into a patch (the server's part of state patches, state-patch.ts):
// apart so that the browser, which only applies patches, does not bundle the diffing code.
import jsonPatch from 'fast-json-patch';
import type { StatePatch } from './state-patch.js';

/**
 * Operations that turn `previous` into `next` (both plain JSON values, e.g. parsed
 * states). Arrays are compared by index, so an item inserted at the front of a long list
 * yields a long patch: callers compare its size with the full state's.
 */
export function diffStates(previous: object, next: object): StatePatch {
  // Without `invertible` compare emits only add / remove / replace.
  return jsonPatch.compare(previous, next) as StatePatch;
}
