// Reading the stored state over HTTP, one GET at a time: a request made while one is in
// flight runs once after it (the answer in flight may predate the change that asked).
// `invalidate` (stop, delete) makes the answer of a GET already sent be dropped.
import { PersistenceError, TokenError } from '../errors.js';
import { type FetchedState, type FetchLike, fetchStoredState } from './fetch-state.js';
import type { GetToken } from './socket.js';

export interface ServerPullOptions {
  stateUrl: string;
  getToken: GetToken;
  fetch: FetchLike;
  /** The stored state, or null when the server holds none. */
  onResult: (remote: FetchedState | null) => void;
  onFailure: (error: PersistenceError) => void;
}

export interface ServerPull {
  /** Asks for a GET (coalesced with one in flight). */
  request(): void;
  /** Drops the answer of a GET in flight and a queued request. */
  invalidate(): void;
  /** Invalidates and refuses further queued requests. */
  stop(): void;
}

export function createServerPull(options: ServerPullOptions): ServerPull {
  // Bumped by invalidate: a GET that resolves afterwards is dropped.
  let round = 0;
  let pulling = false;
  let queued = false;
  let stopped = false;

  const pull = async (): Promise<void> => {
    const myRound = round;
    let remote: FetchedState | null;
    try {
      let token: string;
      try {
        token = await options.getToken();
      } catch (error) {
        throw new TokenError(error);
      }
      remote = await fetchStoredState(options.fetch, options.stateUrl, token);
    } catch (error) {
      if (myRound !== round) return;
      // fetchStoredState only throws PersistenceErrors; anything else is a bug worth seeing.
      if (!(error instanceof PersistenceError)) throw error;
      options.onFailure(error);
      return;
    }
    if (myRound === round) options.onResult(remote);
  };

  const request = (): void => {
    if (pulling) {
      queued = true;
      return;
    }
    pulling = true;
    void pull().finally(() => {
      pulling = false;
      if (!queued || stopped) return;
      queued = false;
      request();
    });
  };

  const invalidate = (): void => {
    round += 1;
    queued = false;
  };

  return {
    request,
    invalidate,
    stop() {
      stopped = true;
      invalidate();
    },
  };
}
