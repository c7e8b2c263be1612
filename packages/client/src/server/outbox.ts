// The save queue: at most one save in flight, and a scheduled one that always sends the
// latest state (it reads the store when it runs, so the last change of a burst is never
// the one dropped). When it sends is timing/pacing.ts: the first change after a quiet period
// at once, then at most one save per `throttleMs` and at least one per `maxWaitMs` while
// a burst lasts. Owns the ack timeout and the content the server refused; knows nothing
// of merging; each save names the revision it is based on (given by the caller).
import { type DashboardState, SERVER_SAVE_DEBOUNCE_MS } from '@hyvve/schema';
import { type ContentRefs, sameContent } from '../content/refs.js';
import { type PersistenceError, ServerRejectedError } from '../errors.js';
import type { PersistenceLogger } from '../logger.js';
import { createSavePacing } from '../timing/pacing.js';
import type { ServerConnection } from './connection.js';

/** A save sent and not answered yet. */
export interface InFlightSave {
  id: string;
  refs: ContentRefs;
  /** What was sent: once acknowledged, the server's copy at the ack's revision. */
  state: DashboardState;
}

export interface OutboxOptions {
  origin: string;
  connection: Pick<ServerConnection, 'isReady' | 'send'>;
  /** The current persistable state and its refs. */
  current: () => { state: DashboardState; refs: ContentRefs };
  /** Whether `refs` is the content last agreed with the server (nothing to send). */
  isAgreed: (refs: ContentRefs) => boolean;
  /**
   * The server revision a save is based on (the agreed content's), sent as
   * `baseRevision` so the server refuses it (412) when another save got in first: the
   * client then merges instead of overwriting that save. Undefined: no condition.
   */
  baseRevision?: () => number | undefined;
  nextId: () => string;
  ackTimeoutMs: number;
  /** Shortest interval between two saves. @default SERVER_SAVE_DEBOUNCE_MS (100) */
  throttleMs?: number | undefined;
  /** Longest a continuous burst holds its changes back. @default 1000 */
  maxWaitMs?: number | undefined;
  /** Clock, injectable for tests. @default Date.now */
  now?: () => number;
  logger: PersistenceLogger;
  /** A save got no answer in time (it is dropped from the outbox first). */
  onTimeout: (error: PersistenceError) => void;
}

export interface SendOptions {
  /** Send even when the content equals the agreed copy (a restore). */
  force?: boolean;
  /** Do not wait for the save in flight (page closing). */
  urgent?: boolean;
  /** The server refuses it (412) unless this is still its revision. */
  baseRevision?: number;
}

export interface Outbox {
  /** Asks for a save of the latest state: at once after a quiet period, else paced. */
  schedule(): void;
  /** Sends the latest state now if it is news and nothing is in flight (see SendOptions). */
  send(options?: SendOptions): void;
  /** Page closing or forced save: sends what the server lacks now, in flight or not. */
  sendPendingNow(): void;
  /** Takes the save in flight if `id` names it (answered), else null. */
  settle(id: string | undefined): InFlightSave | null;
  /** Forgets the save in flight (socket dropped, delete, stop): its answer is ignored. */
  abandon(): void;
  /** Drops a scheduled save. */
  cancel(): void;
  /** The server refused this content: it is not sent again. */
  refuse(refs: ContentRefs): void;
  inFlight(): InFlightSave | null;
}

export function createOutbox(options: OutboxOptions): Outbox {
  const { connection, logger, ackTimeoutMs } = options;
  let inFlight: (InFlightSave & { timer: ReturnType<typeof setTimeout> }) | null = null;
  let refused: ContentRefs | null = null;

  const send = ({ force = false, urgent = false, baseRevision }: SendOptions = {}): void => {
    if ((inFlight && !urgent) || !connection.isReady()) return;
    const { state, refs } = options.current();
    if (!force && options.isAgreed(refs)) return;
    // The server refused exactly this content (400, 413): sending it again cannot help.
    if (sameContent(refs, refused)) return;
    const id = options.nextId();
    const revision = baseRevision ?? options.baseRevision?.();
    // JSON leaves an undefined `baseRevision` out.
    if (
      !connection.send({ type: 'save', id, state, origin: options.origin, baseRevision: revision })
    )
      return;
    // This save carries the latest state: a scheduled one would repeat it; the next one
    // waits the interval from now.
    scheduled.sent();
    const timer = setTimeout(() => {
      if (inFlight?.id !== id) return;
      inFlight = null;
      options.onTimeout(
        new ServerRejectedError(504, 'timeout', `no answer to save ${id} in ${ackTimeoutMs} ms`),
      );
    }, ackTimeoutMs);
    if (inFlight) clearTimeout(inFlight.timer);
    inFlight = { id, refs, state, timer };
    logger.debug('server.save_sent', { id, timestamp: state.timestamp, baseRevision: revision });
  };

  const scheduled = createSavePacing(() => send(), {
    intervalMs: options.throttleMs ?? SERVER_SAVE_DEBOUNCE_MS,
    maxWaitMs: options.maxWaitMs ?? 1000,
    now: options.now,
  });

  const abandon = (): void => {
    if (inFlight) clearTimeout(inFlight.timer);
    inFlight = null;
  };

  return {
    schedule: () => scheduled.schedule(),
    send,
    sendPendingNow() {
      const refs = options.current().refs;
      if (options.isAgreed(refs) || (inFlight && sameContent(refs, inFlight.refs))) return;
      send({ urgent: true });
    },
    settle(id) {
      if (!inFlight || inFlight.id !== id) return null;
      const { timer, ...save } = inFlight;
      clearTimeout(timer);
      inFlight = null;
      return save;
    },
    abandon,
    cancel: () => scheduled.cancel(),
    refuse(refs) {
      refused = refs;
    },
    inFlight: () => inFlight,
  };
}
