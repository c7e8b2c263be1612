// What the persistence service's callers pass and get back: options of a save, its result,
// a delete's result, a subscription. Apart from the service so apply-patch.ts can use them too.
import type { ChannelMessage } from '@hyvve/schema';
import type { BucketRate } from '../rate-limit/token-buckets.js';

/** Options every request of a user may carry. */
export interface LimitOption {
  /**
   * The user's limit: one token of the user's bucket is spent by the store in the same
   * call (or alone, when the request fails before reaching the store); RateLimitedError
   * when it is empty.
   */
  limit?: BucketRate;
}

export interface SaveOptions extends LimitOption {
  /** Save only if this is still the stored revision (`If-Match`), else StaleRevisionError. */
  ifMatch?: number;
  /** With `ifMatch`: the counter's epoch must be this one too (an ETag of the `"<epoch>.<rev>"` form). */
  ifMatchEpoch?: string;
  /** Id of the writer, published with the change so it can ignore its own echo. */
  origin?: string;
  /**
   * The JSON text the state was parsed from, if the caller has it: stored as is when it
   * is exactly what serialising the validated state would write (else ignored).
   */
  source?: StateSource;
}

/** Where a state's JSON may be found in a received text (e.g. a request body). */
export interface StateSource {
  /** A JSON text JSON.parse accepted, decoded from UTF-8. */
  text: string;
  /** Index where the state's value begins in `text`. */
  start: number;
}

export interface SaveResult {
  revision: number;
  savedAt: number;
  /** Epoch of the user's revision counter (see `ChannelHead`). */
  epoch: string;
}

export interface DeleteResult {
  /** False when nothing was stored. */
  deleted: boolean;
  revision: number;
  epoch: string;
}

export type StateListener = (message: ChannelMessage) => void;

export interface StateSubscription {
  /** Revision when the subscription started (0 when nothing was ever stored). */
  readonly revision: number;
  unsubscribe(): Promise<void>;
}
