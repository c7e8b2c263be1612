// localStorage as a destination of the engine (engine/destination.ts): writes the
// envelope debounced (a steady stream of changes still lands every `maxWaitMs`), only
// when the content differs from what storage holds, with the server revision (and store
// epoch) the content is known to be stored at, so a reload can tell what is synced.

import type { Owner } from '../content/owner.js';
import type { ContentRefs } from '../content/refs.js';
import { sameContent } from '../content/refs.js';
import type { CurrentContent, Destination } from '../engine/destination.js';
import type { PersistenceError } from '../errors.js';
import type { PersistenceLogger } from '../logger.js';
import { createDebounce } from '../timing/debounce.js';
import {
  ENVELOPE_FORMAT,
  removeEnvelope,
  type StateStorage,
  type StorageEnvelope,
  writeEnvelope,
} from './envelope.js';

export interface StorageWriterOptions {
  storage: StateStorage;
  storageKey: string;
  /** Quiet time before a write. */
  debounceMs: number;
  /** A steady stream of changes is still written at least this often. */
  maxWaitMs: number;
  now: () => number;
  /** The refs of the store's content: cheap, asked on every change. */
  refs(): ContentRefs;
  /** The content to write. */
  current(): CurrentContent;
  /** Whose content it is: named in the envelope (null: nobody's, written without one). */
  owner(): Owner | null;
  /** Where the server holds `refs`, if it is known to: kept in the envelope. */
  serverCopyOf(refs: ContentRefs): { revision: number; epoch: string | undefined } | undefined;
  /** A write succeeded at `savedAt` (local time). */
  onSaved(savedAt: number): void;
  logger: PersistenceLogger;
  report(error: PersistenceError): void;
}

export interface StorageWriter extends Destination {
  /** Drops a pending write. */
  cancel(): void;
  /** Removes the stored envelope (a failure is reported). */
  remove(): void;
}

export function createStorageWriter(options: StorageWriterOptions): StorageWriter {
  const { storage, storageKey: key, logger, report } = options;
  let inStorage: ContentRefs | null = null;

  const write = (): void => {
    if (sameContent(options.refs(), inStorage)) return;
    const { state, refs, stamp } = options.current();
    const server = options.serverCopyOf(refs);
    // What is undefined is left out of the JSON.
    const envelope: StorageEnvelope = {
      format: ENVELOPE_FORMAT,
      state,
      savedAt: options.now(),
      origin: stamp.origin,
      owner: options.owner() ?? undefined,
      revision: server?.revision,
      epoch: server?.epoch,
    };
    try {
      const length = writeEnvelope(storage, key, envelope);
      inStorage = refs;
      options.onSaved(envelope.savedAt);
      logger.debug('storage.saved', { storageKey: key, length, timestamp: stamp.timestamp });
    } catch (error) {
      report(error as PersistenceError);
    }
  };
  const debounce = createDebounce(write, {
    waitMs: options.debounceMs,
    maxWaitMs: options.maxWaitMs,
    now: options.now,
  });

  return {
    hold(refs) {
      inStorage = refs;
    },
    notifyChange() {
      if (!sameContent(options.refs(), inStorage)) debounce.schedule();
    },
    flush() {
      debounce.cancel();
      write();
    },
    cancel: () => debounce.cancel(),
    remove() {
      try {
        removeEnvelope(storage, key);
      } catch (error) {
        report(error as PersistenceError);
      }
    },
  };
}
