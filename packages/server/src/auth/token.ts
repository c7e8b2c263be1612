// HS256 JWTs whose claims name the key a request may touch: `sub` = userId, `wid` =
// workspaceId. Both are checked against ID_PATTERN when signing and when verifying.
import { ID_PATTERN } from '@hyvve/schema';
import { errors as joseErrors, jwtVerify, SignJWT } from 'jose';
import { AuthError } from '../errors.js';
import { isValidId, type StateScope, stateScope } from '../keys.js';

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
  /** `exp` in ms since epoch; undefined for a token without expiry. */
  readonly expiresAt: number | undefined;
}

const DEFAULT_EXPIRES_IN_SECONDS = 86_400;

export function secretKey(secret: string): Uint8Array {
  return new TextEncoder().encode(secret);
}

/** Signs a token for one user of one workspace. Throws InvalidIdError for a bad id. */
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

/** Verifies signature, algorithm, expiry and claims; throws AuthError with the reason. */
export async function verifyToken(token: string, key: Uint8Array): Promise<Identity> {
  let payload: Awaited<ReturnType<typeof jwtVerify>>['payload'];
  try {
    ({ payload } = await jwtVerify(token, key, { algorithms: ['HS256'] }));
  } catch (error) {
    if (error instanceof joseErrors.JWTExpired) throw new AuthError('token expired');
    throw new AuthError('invalid token');
  }
  const { sub, wid, exp } = payload;
  // Checked before any key is built: a `:` or `*` in a claim must never reach Redis.
  if (!isValidId(sub) || !isValidId(wid)) {
    throw new AuthError(`token claims sub and wid must be ids matching ${ID_PATTERN.source}`);
  }
  return {
    workspaceId: wid,
    userId: sub,
    scope: stateScope(wid, sub),
    expiresAt: typeof exp === 'number' ? exp * 1000 : undefined,
  };
}
