// The Redis value of a state is the exact `state` message published for its revision:
// `{"type":"state","revision":R,"savedAt":S,"timestamp":T,"origin":O,"state":{...}}`.
// So a save sends the state to Redis once, and Redis stores and publishes that one
// string without building another (see scripts.ts). Its head has fixed keys in a
// fixed order, so the scripts read revision and timestamp from the first bytes and a
// reader slices the state's JSON out without decoding it.
import type { StoredRecord } from '../state-store.js';

/** Text before the revision digits: the Lua script splices a revision in after it. */
export const STORED_MESSAGE_PREFIX = '{"type":"state","revision":';

/** Bytes the scripts read to find revision and timestamp (the head is at most ~120). */
export const STORED_HEAD_BYTES = 256;

const NUMBER = '(-?\\d+(?:\\.\\d+)?(?:[eE][+-]?\\d+)?)';
const STORED_HEAD = new RegExp(
  `^\\{"type":"state","revision":(\\d+),"savedAt":${NUMBER},"timestamp":${NUMBER},"origin":("(?:[^"\\\\]|\\\\.)*"),"state":`,
);
const STATE_VERSION_PREFIX = /^\{"version":(\d+)[,}]/;

/**
 * The record held in a stored message, or null when the text is not one (corrupted, or
 * written by something else). The state's JSON is a slice of the text, not re-encoded.
 */
export function parseStoredMessage(text: string): StoredRecord | null {
  const head = STORED_HEAD.exec(text);
  if (!head || !text.endsWith('}')) return null;
  const [whole, revision, savedAt, , origin] = head;
  let originText: unknown;
  try {
    originText = JSON.parse(origin ?? '');
  } catch {
    return null;
  }
  const stateJson = text.slice(whole.length, -1);
  const version = STATE_VERSION_PREFIX.exec(stateJson);
  return {
    stateJson,
    revision: Number(revision),
    savedAt: Number(savedAt),
    // 0 = unknown (another key order): the service reads it from the state and migrates.
    version: version ? Number(version[1]) : 0,
    origin: typeof originText === 'string' ? originText : '',
  };
}

const REVISION_HEAD = /^\{"type":"state","revision":(\d+)[,}]/;

/** The revision in the head of a stored message (or of its first bytes), else null. */
export function storedRevision(head: string): number | null {
  const match = REVISION_HEAD.exec(head);
  return match ? Number(match[1]) : null;
}

/** 1-based position in a stored message of the text after its revision digits. */
export function afterRevisionOffset(revision: number): number {
  return STORED_MESSAGE_PREFIX.length + String(revision).length + 1;
}
