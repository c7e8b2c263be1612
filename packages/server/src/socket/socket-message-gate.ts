// Rate limits of one socket's messages: per client IP before auth, per user after. A
// check may answer asynchronously (an IP lease being fetched, a renewal's token spent in
// Redis), so messages wait in order behind a pending check (a save is never overtaken by
// the delete sent after it). A socket refused again and again is flooding: it is closed
// (1008) instead of answered forever.
import { RateLimitedError } from '../errors.js';
import type { StateOwner } from '../scope.js';

/** Refused messages in a row after which the socket is closed for flooding. */
export const DEFAULT_FLOOD_LIMIT = 20;

/**
 * Spends a message's token: the IP's before auth (`owner` undefined), the user's after;
 * throws or rejects RateLimitedError when none is left.
 */
export type SpendMessage = (
  owner: StateOwner | undefined,
  message: unknown,
) => void | Promise<void>;

export interface SocketMessageGateOptions {
  /** Undefined when limits are off. */
  spend: SpendMessage | undefined;
  /** A message (as decoded, maybe invalid) was refused: answer it with 429. */
  onLimited(error: RateLimitedError, message: unknown): void;
  /** Too many refused in a row: close the socket. */
  onFlood(): void;
  /** A message handled after an asynchronous check threw. */
  onError(error: unknown): void;
  /** @default DEFAULT_FLOOD_LIMIT */
  floodLimit?: number;
}

export class SocketMessageGate {
  private pending: Promise<void> | undefined;
  private refusedInARow = 0;
  private readonly floodLimit: number;

  constructor(private readonly options: SocketMessageGateOptions) {
    this.floodLimit = options.floodLimit ?? DEFAULT_FLOOD_LIMIT;
  }

  /** Runs `handle` once `message` passed the limit of `owner` (the IP's before auth). */
  admit(owner: StateOwner | undefined, message: unknown, handle: () => void): void {
    const { spend } = this.options;
    if (spend === undefined) {
      handle();
      return;
    }
    if (this.pending !== undefined) {
      const next = (): Promise<void> => this.check(owner, message, handle);
      const queued: Promise<void> = this.pending.then(next, next);
      this.track(queued);
      return;
    }
    let spent: void | Promise<void>;
    try {
      spent = spend(owner, message);
    } catch (error) {
      this.refused(error, message);
      return;
    }
    if (spent instanceof Promise) {
      this.track(
        spent.then(
          () => this.passed(handle),
          (error: unknown) => this.refused(error, message),
        ),
      );
      return;
    }
    this.passed(handle);
  }

  private async check(
    owner: StateOwner | undefined,
    message: unknown,
    handle: () => void,
  ): Promise<void> {
    try {
      await this.options.spend?.(owner, message);
    } catch (error) {
      this.refused(error, message);
      return;
    }
    this.passed(handle);
  }

  private track(operation: Promise<void>): void {
    this.pending = operation;
    const settle = (): void => {
      if (this.pending === operation) this.pending = undefined;
    };
    operation.then(settle, (error: unknown) => {
      settle();
      this.options.onError(error);
    });
  }

  private passed(handle: () => void): void {
    this.refusedInARow = 0;
    handle();
  }

  private refused(error: unknown, message: unknown): void {
    if (!(error instanceof RateLimitedError)) throw error;
    this.refusedInARow += 1;
    if (this.refusedInARow > this.floodLimit) {
      this.options.onFlood();
      return;
    }
    this.options.onLimited(error, message);
  }
}
