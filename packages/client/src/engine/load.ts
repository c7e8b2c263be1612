// Loading on start: reads the envelope (storage/envelope.ts), reports and removes what
// cannot be used (unreadable, invalid, older than the TTL, another owner's), and says
// whether the stored state should replace what the store holds: a state set before
// hydration finished is kept when it is newer than the stored one.
import type { DashboardState, MigrationTable } from '@hyvve/schema';
import { describeOwner, type Owner, sameOwner } from '../content/owner.js';
import { isEmptyDashboard } from '../content/refs.js';
import { type ContentStamp, isNewer } from '../content/stamp.js';
import type { PersistenceError } from '../errors.js';
import type { PersistenceLogger } from '../logger.js';
import { readEnvelope, type StateStorage } from '../storage/envelope.js';

/** A stored state to put in the store, with the server revision it is known to be at. */
export interface StoredContent {
  state: DashboardState;
  stamp: ContentStamp;
  revision: number | undefined;
  epoch: string | undefined;
}

export interface LoadOptions {
  storage: StateStorage;
  storageKey: string;
  ttlMs: number;
  now: number;
  migrations: MigrationTable | undefined;
  /** Whose copy this engine may use (null: only a copy without an owner). */
  owner: Owner | null;
  /** What the store holds now, and its stamp. */
  local: { state: DashboardState; stamp: ContentStamp };
  /** Removes the unusable envelope. */
  remove(): void;
  logger: PersistenceLogger;
  report(error: PersistenceError): void;
}

/** Whether the stored content replaces the store's: an empty store, or an older one. */
export function prefersStored(
  local: { state: DashboardState; stamp: ContentStamp },
  stored: ContentStamp,
): boolean {
  return isEmptyDashboard(local.state) || isNewer(stored, local.stamp);
}

/** The stored content to apply, or null (nothing stored, unusable, or older than local). */
export function loadStored(options: LoadOptions): StoredContent | null {
  const { storageKey: key, logger, local } = options;
  const result = readEnvelope(options.storage, key, {
    ttlMs: options.ttlMs,
    now: options.now,
    migrations: options.migrations,
  });
  switch (result.kind) {
    case 'empty':
      logger.debug('storage.empty', { storageKey: key });
      return null;
    case 'unreadable':
      options.report(result.error);
      return null;
    case 'invalid':
      options.report(result.error);
      options.remove();
      return null;
    case 'stale':
      logger.debug('storage.stale_discarded', { storageKey: key, ageMs: result.ageMs });
      options.remove();
      return null;
    case 'loaded': {
      if (!sameOwner(result.envelope.owner, options.owner)) {
        // Another person's dashboard (or one nobody can vouch for): never shown, never sent.
        logger.warn('storage.other_owner_discarded', {
          storageKey: key,
          stored: describeOwner(result.envelope.owner),
          owner: describeOwner(options.owner),
        });
        options.remove();
        return null;
      }
      const { state, origin = '', revision, epoch } = result.envelope;
      const stamp = { timestamp: state.timestamp, origin };
      if (prefersStored(local, stamp)) return { state, stamp, revision, epoch };
      logger.debug('storage.kept_newer_local', {
        storageKey: key,
        stored: state.timestamp,
        local: local.stamp.timestamp,
      });
      return null;
    }
  }
}
