// The localStorage envelope: `{ format, state, savedAt, owner?, origin?, revision?, epoch? }`,
// checked on read. `format` versions the envelope itself; `state.version` is migrated by the
// schema package. Anything unparsable, of an unknown format, invalid, or older than
// the TTL is reported and removed, never applied.
import {
  type DashboardState,
  MAX_STATE_SIZE_BYTES,
  type MigrationTable,
  migrateDashboardState,
  utf8BytesOverLimit,
} from '@hyvve/schema';
import { isRecord, type Owner, readOwner } from '../content/owner.js';
import {
  InvalidPersistedStateError,
  isQuotaExceeded,
  StateTooLargeError,
  StorageAccessError,
  StorageQuotaError,
} from '../errors.js';

/** The subset of the Web Storage API the engine uses (localStorage, or a fake in tests). */
export interface StateStorage {
  getItem(key: string): string | null;
  setItem(key: string, value: string): void;
  removeItem(key: string): void;
}

export const ENVELOPE_FORMAT = 1;

export interface StorageEnvelope {
  format: typeof ENVELOPE_FORMAT;
  /** Persistable state: `loading` and `errors` already reset. */
  state: DashboardState;
  /** Local time of the write, ms since epoch: the TTL counts from here. */
  savedAt: number;
  /**
   * Whose dashboard this is (content/owner.ts). Absent when the engine had no owner (no
   * server and no `owner` option) and in envelopes of versions before owners.
   */
  owner?: Owner | undefined;
  /** Engine that produced the state (breaks timestamp ties the same way everywhere). */
  origin?: string;
  /** Server revision this exact state is known to be stored at, if any. */
  revision?: number | undefined;
  /** The server's store epoch `revision` belongs to, when the server names one. */
  epoch?: string | undefined;
}

export type ReadResult =
  | { kind: 'empty' }
  | { kind: 'loaded'; envelope: StorageEnvelope }
  | { kind: 'stale'; savedAt: number; ageMs: number }
  | { kind: 'invalid'; error: InvalidPersistedStateError }
  | { kind: 'unreadable'; error: StorageAccessError };

export interface ReadOptions {
  ttlMs: number;
  now: number;
  migrations?: MigrationTable | undefined;
}

function invalid(key: string, path: string, reason: string): ReadResult {
  return {
    kind: 'invalid',
    error: new InvalidPersistedStateError(`localStorage "${key}"`, path, reason),
  };
}

/** Parses and checks a stored value. Pure: never touches storage. */
export function parseEnvelope(key: string, raw: string, options: ReadOptions): ReadResult {
  let parsed: unknown;
  try {
    parsed = JSON.parse(raw);
  } catch (error) {
    return invalid(
      key,
      '(root)',
      `not JSON (${error instanceof Error ? error.message : 'parse error'})`,
    );
  }
  if (!isRecord(parsed)) return invalid(key, '(root)', 'expected an object');

  // A bare state (no envelope) is what earlier versions of the hook wrote: accept it once.
  const legacy = !('format' in parsed) && 'widgets' in parsed;
  const rawState = legacy ? parsed : parsed.state;
  if (!legacy) {
    if (parsed.format !== ENVELOPE_FORMAT) {
      return invalid(key, 'format', `unknown envelope format ${String(parsed.format)}`);
    }
    // Number.isFinite (and isInteger) are false for every non-number.
    if (!Number.isFinite(parsed.savedAt)) {
      return invalid(key, 'savedAt', 'expected a number');
    }
  }

  const migrated = migrateDashboardState(rawState, options.migrations);
  if (!migrated.success) {
    const path = legacy ? migrated.error.path : `state.${migrated.error.path}`;
    return invalid(key, path, migrated.error.message);
  }
  const state = migrated.data;
  const savedAt = legacy ? state.timestamp : (parsed.savedAt as number);
  const ageMs = options.now - savedAt;
  if (ageMs > options.ttlMs) return { kind: 'stale', savedAt, ageMs };

  const envelope: StorageEnvelope = { format: ENVELOPE_FORMAT, state, savedAt };
  const owner = legacy ? undefined : readOwner(parsed.owner);
  if (owner) envelope.owner = owner;
  if (typeof parsed.origin === 'string') envelope.origin = parsed.origin;
  if (Number.isInteger(parsed.revision)) {
    envelope.revision = parsed.revision as number;
    if (typeof parsed.epoch === 'string') envelope.epoch = parsed.epoch;
  }
  return { kind: 'loaded', envelope };
}

/** Reads and checks the envelope under `key`. Pure apart from the one `getItem`. */
export function readEnvelope(storage: StateStorage, key: string, options: ReadOptions): ReadResult {
  let raw: string | null;
  try {
    raw = storage.getItem(key);
  } catch (error) {
    return { kind: 'unreadable', error: new StorageAccessError(key, 'read', error) };
  }
  return raw === null ? { kind: 'empty' } : parseEnvelope(key, raw, options);
}

/**
 * Serialises and writes the envelope. Throws StateTooLargeError, StorageQuotaError or
 * StorageAccessError; returns the length of what was written, in characters.
 */
export function writeEnvelope(
  storage: StateStorage,
  key: string,
  envelope: StorageEnvelope,
  limit: number = MAX_STATE_SIZE_BYTES,
): number {
  const json = JSON.stringify(envelope);
  // The limit applies to the state, in UTF-8 bytes as the server counts them. The envelope
  // holds the state, so an envelope within the limit needs no second look; one over it
  // gets the state itself counted (rare: only near the limit).
  if (utf8BytesOverLimit(json, limit) !== null) {
    const bytes = utf8BytesOverLimit(JSON.stringify(envelope.state), limit);
    if (bytes !== null) throw new StateTooLargeError(bytes, limit);
  }
  try {
    storage.setItem(key, json);
  } catch (error) {
    if (isQuotaExceeded(error)) throw new StorageQuotaError(key, json.length, error);
    throw new StorageAccessError(key, 'write', error);
  }
  return json.length;
}

/** Removes the entry. Throws StorageAccessError. */
export function removeEnvelope(storage: StateStorage, key: string): void {
  try {
    storage.removeItem(key);
  } catch (error) {
    throw new StorageAccessError(key, 'remove', error);
  }
}
