// Which keys and algorithms verify a bearer token. HS256 with AUTH_SECRET always; an
// identity provider's public key (AUTH_PUBLIC_KEY, PEM) or key set (AUTH_JWKS_URL) adds
// its asymmetric algorithm. The algorithm list is pinned: a token naming any other
// (`none`, HS512, an RS256 token when no public key is configured) is refused.
import { createPublicKey, type KeyObject } from 'node:crypto';
import { createRemoteJWKSet, type JWTHeaderParameters, type JWTVerifyGetKey } from 'jose';

export type AsymmetricAlgorithm = 'RS256' | 'ES256' | 'EdDSA';
export const ASYMMETRIC_ALGORITHMS: readonly AsymmetricAlgorithm[] = ['RS256', 'ES256', 'EdDSA'];

export interface TokenKeyOptions {
  /** HS256 secret (AUTH_SECRET). */
  secret: string;
  /** An identity provider's public key, PEM (SPKI): RSA → RS256, P-256 → ES256, Ed25519 → EdDSA. */
  publicKey?: string;
  /** An identity provider's JWKS address; its keys verify RS256, ES256 and EdDSA tokens. */
  jwksUrl?: string;
}

/** What `jwtVerify` needs: the allowed algorithms and a key for a token's header. */
export interface TokenKeys {
  readonly algorithms: readonly string[];
  readonly key: JWTVerifyGetKey;
}

export function secretKey(secret: string): Uint8Array {
  return new TextEncoder().encode(secret);
}

/** The algorithm a PEM public key signs with; throws a TypeError naming what is wrong. */
export function algorithmOfPublicKey(key: KeyObject): AsymmetricAlgorithm {
  const type = key.asymmetricKeyType;
  if (type === 'rsa') return 'RS256';
  if (type === 'ed25519') return 'EdDSA';
  if (type === 'ec' && key.asymmetricKeyDetails?.namedCurve === 'prime256v1') return 'ES256';
  throw new TypeError(
    `public key of type ${type ?? 'unknown'} is not supported (use RSA, EC P-256 or Ed25519)`,
  );
}

export function tokenKeys(options: TokenKeyOptions): TokenKeys {
  if (options.secret.length === 0) throw new TypeError('secret must not be empty');
  const secret = secretKey(options.secret);
  const algorithms = new Set<string>(['HS256']);
  let publicKey: { key: KeyObject; alg: AsymmetricAlgorithm } | undefined;
  if (options.publicKey !== undefined) {
    const key = createPublicKey(options.publicKey);
    publicKey = { key, alg: algorithmOfPublicKey(key) };
    algorithms.add(publicKey.alg);
  }
  const jwks =
    options.jwksUrl === undefined ? undefined : createRemoteJWKSet(new URL(options.jwksUrl));
  if (jwks) for (const alg of ASYMMETRIC_ALGORITHMS) algorithms.add(alg);
  const key: JWTVerifyGetKey = (header: JWTHeaderParameters, token) => {
    if (header.alg === 'HS256') return secret;
    if (publicKey && header.alg === publicKey.alg) return publicKey.key;
    if (jwks) return jwks(header, token);
    // Unreachable through jwtVerify (the algorithm list is checked first); kept as a guard.
    throw new TypeError(`no key for algorithm ${String(header.alg)}`);
  };
  return { algorithms: [...algorithms], key };
}
