// What a token must be: signed with a pinned algorithm, expiring, not too long-lived,
// from the configured issuer for the configured audience; and an identity provider's
// public key or key set verifies its own tokens.
import { once } from 'node:events';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { exportJWK, exportSPKI, generateKeyPair, SignJWT, UnsecuredJWT } from 'jose';
import { afterAll, describe, expect, it } from 'vitest';
import { secretKey, verifyToken } from '../src/auth/token.js';
import { tokenKeys } from '../src/auth/token-keys.js';
import { AuthError } from '../src/index.js';

const SECRET = 'token-policy-secret-token-policy-secret';
const now = () => Math.floor(Date.now() / 1000);

function claims(extra: Record<string, unknown> = {}): SignJWT {
  return new SignJWT({ wid: 'acme', ...extra }).setSubject('alice');
}

async function hs256(build: (jwt: SignJWT) => SignJWT, secret = SECRET): Promise<string> {
  return build(claims().setProtectedHeader({ alg: 'HS256' })).sign(secretKey(secret));
}

const keys = tokenKeys({ secret: SECRET });

describe('verifyToken refuses', () => {
  it.each<[string, () => Promise<string>, string]>([
    ['a token without exp', () => hs256((jwt) => jwt.setIssuedAt()), 'token claim exp'],
    [
      'a token without sub',
      () =>
        new SignJWT({ wid: 'acme' })
          .setProtectedHeader({ alg: 'HS256' })
          .setExpirationTime('1h')
          .sign(secretKey(SECRET)),
      'token claim sub',
    ],
    [
      'a token without wid',
      () =>
        new SignJWT({})
          .setProtectedHeader({ alg: 'HS256' })
          .setSubject('alice')
          .setExpirationTime('1h')
          .sign(secretKey(SECRET)),
      'sub and wid must be ids',
    ],
    [
      'alg none',
      async () => new UnsecuredJWT({ wid: 'acme', sub: 'alice', exp: now() + 60 }).encode(),
      'token algorithm not allowed',
    ],
    [
      'HS512 with the right secret',
      () =>
        claims()
          .setProtectedHeader({ alg: 'HS512' })
          .setExpirationTime('1h')
          .sign(secretKey(SECRET)),
      'token algorithm not allowed',
    ],
    [
      'a wrong secret',
      () => hs256((jwt) => jwt.setExpirationTime('1h'), 'another-secret-another-secret-0123'),
      'invalid token',
    ],
    [
      'an expired token',
      () => hs256((jwt) => jwt.setIssuedAt(now() - 120).setExpirationTime(now() - 60)),
      'token expired',
    ],
    [
      'a lifetime over 24 h',
      () => hs256((jwt) => jwt.setIssuedAt().setExpirationTime('25h')),
      'token lifetime is longer than the 86400 s allowed',
    ],
    [
      'a lifetime over 24 h without iat',
      () => hs256((jwt) => jwt.setExpirationTime('30d')),
      'token lifetime is longer',
    ],
  ])('%s', async (_name, make, reason) => {
    const error = await verifyToken(await make(), keys).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(AuthError);
    expect((error as AuthError).message).toContain(reason);
  });

  it('a token longer-lived than a configured maximum, and accepts one within it', async () => {
    const token = await hs256((jwt) => jwt.setIssuedAt().setExpirationTime('2h'));
    await expect(verifyToken(token, keys, { maxLifetimeSeconds: 3600 })).rejects.toThrow(
      'longer than the 3600 s',
    );
    const short = await hs256((jwt) => jwt.setIssuedAt().setExpirationTime('30m'));
    await expect(verifyToken(short, keys, { maxLifetimeSeconds: 3600 })).resolves.toMatchObject({
      userId: 'alice',
    });
  });

  it('another issuer or audience than the configured ones', async () => {
    const policy = { issuer: 'https://id.example', audience: 'dashboard' };
    const good = await hs256((jwt) =>
      jwt.setExpirationTime('1h').setIssuer('https://id.example').setAudience('dashboard'),
    );
    await expect(verifyToken(good, keys, policy)).resolves.toMatchObject({ workspaceId: 'acme' });
    const wrongIssuer = await hs256((jwt) =>
      jwt.setExpirationTime('1h').setIssuer('https://evil.example').setAudience('dashboard'),
    );
    await expect(verifyToken(wrongIssuer, keys, policy)).rejects.toThrow('token claim iss');
    const noAudience = await hs256((jwt) =>
      jwt.setExpirationTime('1h').setIssuer('https://id.example'),
    );
    await expect(verifyToken(noAudience, keys, policy)).rejects.toThrow('token claim aud');
  });
});

describe('identity provider keys', () => {
  it.each(['ES256', 'RS256', 'EdDSA'] as const)(
    'accepts %s tokens signed by AUTH_PUBLIC_KEY',
    async (alg) => {
      const pair = await generateKeyPair(alg, { extractable: true });
      const publicKey = await exportSPKI(pair.publicKey);
      const withKey = tokenKeys({ secret: SECRET, publicKey });
      const token = await claims()
        .setProtectedHeader({ alg })
        .setExpirationTime('1h')
        .sign(pair.privateKey);
      await expect(verifyToken(token, withKey)).resolves.toMatchObject({ userId: 'alice' });
      // The secret's tokens still pass; the key is not usable as an HMAC secret.
      const hs = await hs256((jwt) => jwt.setExpirationTime('1h'));
      await expect(verifyToken(hs, withKey)).resolves.toMatchObject({ userId: 'alice' });
      const confused = await claims()
        .setProtectedHeader({ alg: 'HS256' })
        .setExpirationTime('1h')
        .sign(new TextEncoder().encode(publicKey));
      await expect(verifyToken(confused, withKey)).rejects.toThrow('invalid token');
      // Without the key configured, the same token is refused by its algorithm.
      await expect(verifyToken(token, keys)).rejects.toThrow('token algorithm not allowed');
    },
  );

  describe('AUTH_JWKS_URL', () => {
    const served: { keys: unknown[] } = { keys: [] };
    const server = createServer((_request, response) => {
      response.setHeader('content-type', 'application/json');
      response.end(JSON.stringify(served));
    });
    afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

    it('accepts a token signed by a key of the set, and refuses one whose kid is unknown', async () => {
      server.listen(0, '127.0.0.1');
      await once(server, 'listening');
      const { port } = server.address() as AddressInfo;
      const pair = await generateKeyPair('ES256', { extractable: true });
      served.keys = [{ ...(await exportJWK(pair.publicKey)), kid: 'k1', alg: 'ES256' }];
      const withSet = tokenKeys({ secret: SECRET, jwksUrl: `http://127.0.0.1:${port}/jwks` });
      const token = await claims()
        .setProtectedHeader({ alg: 'ES256', kid: 'k1' })
        .setExpirationTime('1h')
        .sign(pair.privateKey);
      await expect(verifyToken(token, withSet)).resolves.toMatchObject({ userId: 'alice' });
      const stranger = await generateKeyPair('ES256');
      const forged = await claims()
        .setProtectedHeader({ alg: 'ES256', kid: 'k2' })
        .setExpirationTime('1h')
        .sign(stranger.privateKey);
      await expect(verifyToken(forged, withSet)).rejects.toThrow('invalid token');
    });
  });

  it('refuses a public key of an unsupported kind', async () => {
    const pair = await generateKeyPair('ES384', { extractable: true });
    expect(() => tokenKeys({ secret: SECRET, publicKey: '' })).toThrow();
    expect(() =>
      tokenKeys({
        secret: SECRET,
        publicKey: '-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----',
      }),
    ).toThrow();
    const pem = await exportSPKI(pair.publicKey);
    expect(() => tokenKeys({ secret: SECRET, publicKey: pem })).toThrow('not supported');
    expect(() => tokenKeys({ secret: '' })).toThrow('secret must not be empty');
  });
});
