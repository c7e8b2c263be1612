// What the Lua scripts answer (scripts.ts), turned into the store's types: a read's record,
// counter and epoch; a save's outcome. Pure functions: a reply of an unexpected shape throws.
import { RateLimitedError } from '../../errors.js';
import type { ChannelHead, SaveOutcome, StoredRecord } from '../state-store.js';
import { parseStoredMessage, storedRevision } from './stored-message.js';

/** The epoch in a script reply ('' when there is none). */
export function toEpoch(value: unknown): string {
  return typeof value === 'string' ? value : '';
}

/** A counter key's value: '<revision>:<epoch>', a bare revision (no epoch yet), or none. */
export function parseCounter(value: unknown): ChannelHead {
  if (typeof value !== 'string') return { revision: 0, epoch: '' };
  const colon = value.indexOf(':');
  if (colon < 0) return { revision: toNumber(value), epoch: '' };
  return { revision: toNumber(value.slice(0, colon)), epoch: value.slice(colon + 1) };
}

export function toNumber(value: unknown): number {
  const number = typeof value === 'number' ? value : Number(value ?? 0);
  return Number.isFinite(number) ? number : 0;
}

function toRecord(
  stateJson: string,
  revision: unknown,
  savedAt: unknown,
  version: unknown,
  origin: unknown,
): StoredRecord {
  return {
    stateJson,
    revision: toNumber(revision),
    savedAt: toNumber(savedAt),
    // 0 = unknown: the service then reads `version` from the state itself and migrates.
    version: version == null ? 0 : toNumber(version),
    origin: typeof origin === 'string' ? origin : '',
  };
}

export function unexpectedReply(operation: string, reply: unknown): Error {
  return new Error(`unexpected reply to ${operation}: ${typeof reply}`);
}

/** Throws RateLimitedError when a script refused the call for the user's limit. */
export function throwIfLimited(reply: unknown): void {
  if (Array.isArray(reply) && reply[0] === 'limited') {
    throw new RateLimitedError(toNumber(reply[1]));
  }
}

export interface ReadResult {
  kind: 'message' | 'legacy' | 'none' | 'unreadable';
  record: StoredRecord | null;
  /** Revision of the stored value (0 when none). */
  revision: number;
  /** The revision counter key (written by saves and deletes). */
  counter: number;
  /** The counter's epoch ('' when there is no counter, or it has no epoch yet). */
  epoch: string;
  /** The stored message as read (a full read of the current layout only). */
  text?: string;
}

/** A READ_SCRIPT reply; a `head` read gives the revision but no record. */
export function parseReadReply(reply: unknown): ReadResult {
  if (!Array.isArray(reply)) throw unexpectedReply('read', reply);
  throwIfLimited(reply);
  const [kind] = reply;
  if (kind === 'none') {
    const { revision: counter, epoch } = parseCounter(reply[1]);
    return { kind, record: null, revision: 0, counter, epoch };
  }
  if (kind === 'legacy') {
    const { revision: counter, epoch } = parseCounter(reply[6]);
    if (typeof reply[1] !== 'string' || reply[2] == null) {
      return { kind, record: null, revision: toNumber(reply[2]), counter, epoch };
    }
    const record = toRecord(reply[1], reply[2], reply[3], reply[4], reply[5]);
    return { kind, record, revision: record.revision, counter, epoch };
  }
  if (kind === 'message' && typeof reply[1] === 'string') {
    const { revision: counter, epoch } = parseCounter(reply[2]);
    const record = parseStoredMessage(reply[1]);
    if (record) return { kind, record, revision: record.revision, counter, epoch, text: reply[1] };
    // A `head` read holds only the first bytes: its revision is all that is wanted.
    const revision = storedRevision(reply[1]);
    if (revision !== null) return { kind, record: null, revision, counter, epoch };
    return { kind: 'unreadable', record: null, revision: 0, counter, epoch };
  }
  throw unexpectedReply('read', reply);
}

interface ParsedSave {
  result: SaveOutcome;
  /** The revision the key is at now (the new one, or the stored one that won). */
  revision: number;
  replacedUnreadable: boolean;
}

export function parseSaveReply(reply: unknown, savedAt: number): ParsedSave {
  if (!Array.isArray(reply)) throw unexpectedReply('save', reply);
  throwIfLimited(reply);
  const [status] = reply;
  if (status === 'saved') {
    const revision = toNumber(reply[1]);
    const epoch = toEpoch(reply[3]);
    return {
      result: { status, revision, savedAt, epoch },
      revision,
      replacedUnreadable: reply[2] === 1,
    };
  }
  if (status === 'stale') {
    const revision = toNumber(reply[1]);
    const epoch = toEpoch(reply[2]);
    return { result: { status, revision, epoch }, revision, replacedUnreadable: false };
  }
  const current =
    status === 'conflict' && typeof reply[1] === 'string'
      ? parseStoredMessage(reply[1])
      : status === 'conflict-legacy' && typeof reply[1] === 'string'
        ? toRecord(reply[1], reply[2], reply[3], reply[4], reply[5])
        : null;
  if (current) {
    return {
      result: { status: 'conflict', current },
      revision: current.revision,
      replacedUnreadable: false,
    };
  }
  throw unexpectedReply('save', reply);
}
