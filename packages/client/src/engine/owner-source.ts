// Whose dashboard the engine holds (content/owner.ts), and the watch on the tokens that
// notices when another person's token arrives while it runs. The owner is the `owner`
// option, else the one the server token names; with a server and no `owner` option the
// engine waits for the first token before it loads anything (a getToken that answers
// synchronously costs no wait), retrying with backoff while getToken fails. That first
// token is handed to the connection, so getToken is not called twice for one connect.

import { describeOwner, type Owner, ownerFromToken, sameOwner } from '../content/owner.js';
import { TokenError } from '../errors.js';
import type { PersistenceLogger } from '../logger.js';
import { checkedToken, type GetToken } from '../server/socket.js';
import { type BackoffOptions, backoffDelay } from '../timing/backoff.js';

export interface OwnerSourceOptions {
  /** The `owner` option. */
  explicit: Owner | undefined;
  /** The server's token source; undefined without a server. */
  getToken: GetToken | undefined;
  backoff: BackoffOptions;
  logger: PersistenceLogger;
  onError: (error: TokenError) => void;
  /** A token names another owner than the one the engine holds copies of. */
  onSwitch: (next: Owner, previous: Owner | null) => void;
}

export interface OwnerSource {
  /** The owner now; null: copies without an owner (no server and no `owner` option, or a token without claims). */
  current(): Owner | null;
  /** Calls `ready` once the owner is known: at once when it can be, else after the first token. */
  resolve(ready: () => void): void;
  /** getToken for the server sync: every token's owner is checked before it is used. */
  getToken: GetToken;
  /** Drops a pending retry and the token kept for the first connect. */
  stop(): void;
}

export function createOwnerSource(options: OwnerSourceOptions): OwnerSource {
  const { logger } = options;
  let owner: Owner | null = options.explicit ?? null;
  /** The token read to learn the owner, kept for the first connect. */
  let kept: string | undefined;
  let retryTimer: ReturnType<typeof setTimeout> | undefined;
  let stopped = false;

  /** Notes the owner `token` names; a different one than held means another person. */
  const watch = (token: string): string => {
    const named = ownerFromToken(token);
    if (named === null || sameOwner(named, owner)) return token;
    const previous = owner;
    owner = named;
    logger.warn('owner.switched', { from: describeOwner(previous), to: describeOwner(named) });
    // The next connect (of the sync that replaces the previous owner's) uses this token.
    kept = token;
    options.onSwitch(named, previous);
    return token;
  };

  const getToken: GetToken = () => {
    if (kept !== undefined) {
      const token = kept;
      kept = undefined;
      return token;
    }
    const source = options.getToken;
    if (!source) throw new Error('no server configured');
    const result = source();
    return typeof result === 'string' ? watch(result) : result.then((t) => watch(checkedToken(t)));
  };

  const resolve = (ready: () => void): void => {
    const source = options.getToken;
    if (options.explicit !== undefined || !source) {
      ready();
      return;
    }
    let attempt = 0;
    const learn = (token: unknown): void => {
      if (stopped) return;
      let checked: string;
      try {
        checked = checkedToken(token);
      } catch (error) {
        fail(error);
        return;
      }
      kept = checked;
      owner = ownerFromToken(checked);
      logger.debug('owner.resolved', { owner: describeOwner(owner) });
      ready();
    };
    const fail = (error: unknown): void => {
      if (stopped) return;
      options.onError(new TokenError(error));
      const delay = backoffDelay(attempt, options.backoff);
      attempt += 1;
      retryTimer = setTimeout(tryOnce, delay);
    };
    function tryOnce(): void {
      retryTimer = undefined;
      let result: string | Promise<string>;
      try {
        result = source ? source() : '';
      } catch (error) {
        fail(error);
        return;
      }
      if (typeof result === 'string') learn(result);
      else result.then(learn, fail);
    }
    tryOnce();
  };

  return {
    current: () => owner,
    resolve,
    getToken,
    stop() {
      stopped = true;
      kept = undefined;
      if (retryTimer !== undefined) clearTimeout(retryTimer);
    },
  };
}
