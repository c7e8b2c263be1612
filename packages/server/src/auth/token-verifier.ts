// Verifies bearer tokens with a bounded cache: signature checks are the costliest step
// of a save, and an HTTP client sends the same token on every request. A cached token
// is refused (and forgotten) once its `exp` has passed: every token expires.
import { AuthError } from '../errors.js';
import { type Identity, type TokenPolicy, verifyToken } from './token.js';
import { type TokenKeys, tokenKeys } from './token-keys.js';

export interface TokenVerifierOptions {
  /** Lifetime, issuer and audience a token must meet. @default at most 24 h, any iss/aud */
  policy?: TokenPolicy;
  /** Verified tokens remembered (oldest dropped first). @default 10000 */
  cacheSize?: number;
  /** @default Date.now */
  now?: () => number;
}

const BEARER = /^Bearer\s+(\S+)\s*$/i;
const BEARER_PREFIX = 'Bearer ';

export class TokenVerifier {
  private readonly keys: TokenKeys;
  private readonly policy: TokenPolicy;
  private readonly cache = new Map<string, Identity>();
  /** Signature checks in progress, by token. */
  private readonly verifying = new Map<string, Promise<Identity>>();
  private readonly cacheSize: number;
  private readonly now: () => number;

  /** `keys`: the HS256 secret, or keys built by `tokenKeys` (secret plus an identity provider's). */
  constructor(keys: string | TokenKeys, options: TokenVerifierOptions = {}) {
    this.keys = typeof keys === 'string' ? tokenKeys({ secret: keys }) : keys;
    this.policy = options.policy ?? {};
    this.cacheSize = options.cacheSize ?? 10_000;
    this.now = options.now ?? Date.now;
  }

  /** The identity of an `Authorization: Bearer <token>` header value. */
  verifyHeader(header: string | undefined): Promise<Identity> {
    if (!header) return Promise.reject(new AuthError('missing Authorization: Bearer token'));
    const match = BEARER.exec(header);
    if (!match?.[1]) return Promise.reject(new AuthError('Authorization must be "Bearer <token>"'));
    return this.verify(match[1]);
  }

  /**
   * The identity of a header whose token is cached and unexpired, without a promise;
   * undefined otherwise (then `verifyHeader` says why or verifies it). The save path's
   * common case: a client sends the same token on every request.
   */
  cachedHeader(header: string | undefined): Identity | undefined {
    if (!header) return undefined;
    // The usual spelling is looked up without the regular expression: a cached token
    // passed BEARER's \S+ once, so `Bearer <it>` is a header BEARER reads the same way.
    const usual = header.startsWith(BEARER_PREFIX)
      ? this.cache.get(header.slice(BEARER_PREFIX.length))
      : undefined;
    const token = usual === undefined ? BEARER.exec(header)?.[1] : undefined;
    const cached = usual ?? (token === undefined ? undefined : this.cache.get(token));
    if (cached === undefined) return undefined;
    return cached.expiresAt > this.now() ? cached : undefined;
  }

  async verify(token: string): Promise<Identity> {
    const cached = this.cache.get(token);
    if (cached) {
      if (cached.expiresAt > this.now()) return cached;
      this.cache.delete(token);
      throw new AuthError('token expired');
    }
    // Requests that bring the same new token at once (a page load's GET and socket) share
    // one signature check instead of each paying for it.
    let verifying = this.verifying.get(token);
    if (verifying === undefined) {
      verifying = verifyToken(token, this.keys, this.policy, this.now()).then(
        (identity) => {
          this.verifying.delete(token);
          this.remember(token, identity);
          return identity;
        },
        (error: unknown) => {
          this.verifying.delete(token);
          throw error;
        },
      );
      this.verifying.set(token, verifying);
    }
    return verifying;
  }

  private remember(token: string, identity: Identity): void {
    if (this.cache.size >= this.cacheSize) {
      const oldest = this.cache.keys().next();
      if (!oldest.done) this.cache.delete(oldest.value);
    }
    this.cache.set(token, identity);
  }

  get cachedTokens(): number {
    return this.cache.size;
  }
}
