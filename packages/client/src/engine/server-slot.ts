// The engine's place for its server sync, which is not one object for the engine's whole
// life: sign-out (a local clear) lets it go, so nothing more is sent or fetched for the
// person signing out, and a token of another person replaces it with a fresh one that
// knows nothing of the previous owner's server copy. The slot is the server destination
// the engine wires once (engine/destination.ts); whatever sync sits in it gets the calls.

import type { SyncStatus } from '../server/status.js';
import type { ServerSync } from '../server/sync.js';
import { type Destination, forwardTo } from './destination.js';

export interface ServerSlot extends Destination {
  /** The sync now in the slot (null: no server configured, or let go by sign-out). */
  current(): ServerSync | null;
  /** Let go by sign-out: the next local change calls `attach`. */
  isDetached(): boolean;
  /** Stops the sync (a save still pending goes to its own server first) and empties the slot. */
  detach(): void;
  /** Puts a fresh sync in the slot (stopping the one there), started when `start`. */
  replace(start: boolean): void;
  /** After `detach`: a fresh sync, started. */
  attach(): void;
}

export interface ServerSlotOptions {
  /** A new sync; `isLive()` is false once it left the slot (its reports are then ignored). */
  create(isLive: () => boolean): ServerSync | null;
  onStatus(status: SyncStatus): void;
}

export function createServerSlot(options: ServerSlotOptions): ServerSlot {
  let sync: ServerSync | null = null;
  let detached = false;

  const fresh = (): ServerSync | null => {
    const created = options.create(() => created !== null && created === sync);
    return created;
  };
  const stopCurrent = (): void => {
    const previous = sync;
    sync = null;
    previous?.stop();
  };
  const startCurrent = (): void => {
    if (!sync) return;
    options.onStatus('connecting');
    sync.start();
  };
  sync = fresh();

  return {
    current: () => sync,
    isDetached: () => detached,
    detach() {
      if (!sync) return;
      stopCurrent();
      detached = true;
      options.onStatus('local-only');
    },
    replace(start) {
      stopCurrent();
      detached = false;
      sync = fresh();
      if (start) startCurrent();
    },
    attach() {
      if (!detached) return;
      detached = false;
      sync = fresh();
      startCurrent();
    },
    ...forwardTo(() => sync),
  };
}
