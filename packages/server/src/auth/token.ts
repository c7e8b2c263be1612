// JWTs whose claims name the key a request may touch: `sub` = userId, `wid` =
// workspaceId. Both are checked against ID_PATTERN when signing and when verifying.
// A token must expire (`exp`), and may not live longer than the policy allows, so a
// leaked token is worth a bounded time.
import { ID_PATTERN } from '@hyvve/schema';
import { type JWTPayload, errors as joseErrors, jwtVerify, SignJWT } from 'jose';
import { AuthError } from '../errors.js';
import { isValidId, type StateScope, stateScope } from '../scope.js';
import { secretKey, type TokenKeys } from './token-keys.js';

export { secretKey } from './token-keys.js';

export interface SignTokenOptions {
  userId: string;
  workspaceId: string;
  /** The server's AUTH_SECRET. */
  secret: string;
  /** @default 86400 (24 hours) */
  expiresInSeconds?: number;
}

/** Who a verified token speaks for, with the state scope built once from its claims. */
export interface Identity {
  readonly workspaceId: string;
  readonly userId: string;
  readonly scope: StateScope;
  /** `exp` in ms since epoch. */
  readonly expiresAt: number;
}

/** What a token must say besides its signature. */
export interface TokenPolicy {
  /** Longest lifetime accepted (`exp` − `iat`, or `exp` − now without `iat`). @default 86400 */
  maxLifetimeSeconds?: number;
  /** Required `iss` (AUTH_ISSUER). */
  issuer?: string;
  /** Required `aud` (AUTH_AUDIENCE). */
  audience?: string;
  /** Clock skew allowed on `exp`, `nbf` and `iat`. @default 5 */
  clockToleranceSeconds?: number;
}

export const DEFAULT_MAX_TOKEN_LIFETIME_SECONDS = 86_400;
const DEFAULT_EXPIRES_IN_SECONDS = 86_400;

/** Signs an HS256 token for one user of one workspace. Throws InvalidIdError for a bad id. */
export async function signToken(options: SignTokenOptions): Promise<string> {
  const { userId, workspaceId, secret } = options;
  stateScope(workspaceId, userId);
  if (secret.length === 0) throw new TypeError('secret must not be empty');
  const expiresIn = options.expiresInSeconds ?? DEFAULT_EXPIRES_IN_SECONDS;
  if (!Number.isInteger(expiresIn) || expiresIn <= 0) {
    throw new RangeError('expiresInSeconds must be a positive integer');
  }
  return new SignJWT({ wid: workspaceId })
    .setProtectedHeader({ alg: 'HS256', typ: 'JWT' })
    .setSubject(userId)
    .setIssuedAt()
    .setExpirationTime(Math.floor(Date.now() / 1000) + expiresIn)
    .sign(secretKey(secret));
}

function reasonOf(error: unknown): string {
  if (error instanceof joseErrors.JWTExpired) return 'token expired';
  if (error instanceof joseErrors.JWTClaimValidationFailed) {
    return `token claim ${error.claim} is missing or not accepted`;
  }
  if (error instanceof joseErrors.JOSEAlgNotAllowed) return 'token algorithm not allowed';
  return 'invalid token';
}

/**
 * Verifies signature, pinned algorithm, expiry, lifetime and claims; throws AuthError
 * with the reason. `keys` is an HS256 key (the secret's bytes) or a key set.
 */
export async function verifyToken(
  token: string,
  keys: Uint8Array | TokenKeys,
  policy: TokenPolicy = {},
  now: number = Date.now(),
): Promise<Identity> {
  const tolerance = policy.clockToleranceSeconds ?? 5;
  let payload: JWTPayload;
  try {
    const options = {
      requiredClaims: ['exp', 'sub'],
      clockTolerance: tolerance,
      currentDate: new Date(now),
      ...(policy.issuer === undefined ? {} : { issuer: policy.issuer }),
      ...(policy.audience === undefined ? {} : { audience: policy.audience }),
    };
    ({ payload } =
      keys instanceof Uint8Array
        ? await jwtVerify(token, keys, { ...options, algorithms: ['HS256'] })
        : await jwtVerify(token, keys.key, { ...options, algorithms: [...keys.algorithms] }));
  } catch (error) {
    throw new AuthError(reasonOf(error));
  }
  const { sub, wid, exp, iat } = payload;
  // Checked before any key is built: a `:` or `*` in a claim must never reach Redis.
  if (!isValidId(sub) || !isValidId(wid)) {
    throw new AuthError(`token claims sub and wid must be ids matching ${ID_PATTERN.source}`);
  }
  // jose checked `exp` is present and a number (requiredClaims).
  const expiresAt = (exp as number) * 1000;
  const maxLifetime = policy.maxLifetimeSeconds ?? DEFAULT_MAX_TOKEN_LIFETIME_SECONDS;
  const issuedAt = typeof iat === 'number' ? Math.min(iat * 1000, now) : now;
  if (expiresAt - issuedAt > (maxLifetime + tolerance) * 1000) {
    throw new AuthError(`token lifetime is longer than the ${maxLifetime} s allowed`);
  }
  return { workspaceId: wid, userId: sub, scope: stateScope(wid, sub), expiresAt };
}
