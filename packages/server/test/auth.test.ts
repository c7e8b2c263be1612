// Tokens: signing checks ids, verification checks signature, algorithm, expiry and
// claims, and the verifier caches a verified token only until it expires.
import { SignJWT } from 'jose';
import { describe, expect, it, vi } from 'vitest';
import { secretKey } from '../src/auth/token.js';
import { AuthError, InvalidIdError, signToken, TokenVerifier, verifyToken } from '../src/index.js';

const SECRET = 'unit-test-secret-unit-test-secret';

describe('signToken', () => {
  it('signs sub = userId and wid = workspaceId with HS256, expiring in 24 h by default', async () => {
    const token = await signToken({ userId: 'alice', workspaceId: 'acme', secret: SECRET });
    const [header, payload] = token
      .split('.')
      .slice(0, 2)
      .map((part) => JSON.parse(Buffer.from(part, 'base64url').toString()));
    expect(header).toMatchObject({ alg: 'HS256' });
    expect(payload).toMatchObject({ sub: 'alice', wid: 'acme' });
    expect(payload.exp - payload.iat).toBe(86_400);
  });

  it('honours expiresInSeconds and refuses nonsense', async () => {
    const token = await signToken({
      userId: 'a',
      workspaceId: 'b',
      secret: SECRET,
      expiresInSeconds: 60,
    });
    const identity = await verifyToken(token, secretKey(SECRET));
    expect((identity.expiresAt ?? 0) - Date.now()).toBeLessThanOrEqual(60_000);
    await expect(
      signToken({ userId: 'a', workspaceId: 'b', secret: SECRET, expiresInSeconds: 0 }),
    ).rejects.toThrow(RangeError);
    await expect(signToken({ userId: 'a', workspaceId: 'b', secret: '' })).rejects.toThrow(
      TypeError,
    );
  });

  it('refuses ids that do not match the id pattern', async () => {
    await expect(signToken({ userId: 'a:b', workspaceId: 'acme', secret: SECRET })).rejects.toThrow(
      InvalidIdError,
    );
    await expect(
      signToken({ userId: 'a', workspaceId: 'x'.repeat(129), secret: SECRET }),
    ).rejects.toThrow(InvalidIdError);
  });
});

describe('verifyToken', () => {
  it('returns the identity with its state scope', async () => {
    const token = await signToken({ userId: 'alice', workspaceId: 'acme', secret: SECRET });
    const identity = await verifyToken(token, secretKey(SECRET));
    expect(identity).toMatchObject({ userId: 'alice', workspaceId: 'acme' });
    expect(identity.scope.stateKey).toBe('dashboard:state:{acme:alice}');
  });

  it('refuses another algorithm even with the right secret', async () => {
    const token = await new SignJWT({ wid: 'acme' })
      .setProtectedHeader({ alg: 'HS512' })
      .setSubject('alice')
      .sign(secretKey(SECRET));
    await expect(verifyToken(token, secretKey(SECRET))).rejects.toThrow(
      'token algorithm not allowed',
    );
  });

  it('refuses a token without expiry', async () => {
    const token = await new SignJWT({ wid: 'acme' })
      .setProtectedHeader({ alg: 'HS256' })
      .setSubject('alice')
      .sign(secretKey(SECRET));
    await expect(verifyToken(token, secretKey(SECRET))).rejects.toThrow(
      'token claim exp is missing',
    );
  });
});

describe('TokenVerifier', () => {
  it('verifies a token once and answers later requests from its cache', async () => {
    const verifier = new TokenVerifier(SECRET);
    const token = await signToken({ userId: 'alice', workspaceId: 'acme', secret: SECRET });
    const first = await verifier.verifyHeader(`Bearer ${token}`);
    const second = await verifier.verify(token);
    expect(second).toBe(first);
    expect(verifier.cachedTokens).toBe(1);
  });

  it('refuses a cached token once its expiry has passed', async () => {
    let now = Date.now();
    const verifier = new TokenVerifier(SECRET, { now: () => now });
    const token = await signToken({
      userId: 'a',
      workspaceId: 'b',
      secret: SECRET,
      expiresInSeconds: 5,
    });
    await verifier.verify(token);
    now += 10_000;
    await expect(verifier.verify(token)).rejects.toThrow('token expired');
    expect(verifier.cachedTokens).toBe(0);
  });

  it('checks a new token once when requests bring it at the same time', async () => {
    const verifier = new TokenVerifier(SECRET);
    const token = await signToken({ userId: 'burst', workspaceId: 'w', secret: SECRET });
    const identities = await Promise.all([1, 2, 3].map(() => verifier.verify(token)));
    // One check: every caller gets the identity it produced (a check each would make three).
    expect(identities[1]).toBe(identities[0]);
    expect(identities[2]).toBe(identities[0]);
    expect(verifier.cachedTokens).toBe(1);
  });

  it('shares a failed check with the callers waiting on it, and checks again afterwards', async () => {
    const verifier = new TokenVerifier(SECRET);
    const forged = await signToken({
      userId: 'x',
      workspaceId: 'w',
      secret: 'another-secret-0123456789',
    });
    const results = await Promise.allSettled([verifier.verify(forged), verifier.verify(forged)]);
    expect(results.map((result) => result.status)).toEqual(['rejected', 'rejected']);
    await expect(verifier.verify(forged)).rejects.toBeInstanceOf(AuthError);
    expect(verifier.cachedTokens).toBe(0);
  });

  it('keeps at most cacheSize tokens, dropping the oldest', async () => {
    const verifier = new TokenVerifier(SECRET, { cacheSize: 2 });
    for (const user of ['u1', 'u2', 'u3']) {
      await verifier.verify(await signToken({ userId: user, workspaceId: 'w', secret: SECRET }));
    }
    expect(verifier.cachedTokens).toBe(2);
  });

  it('refuses a missing or non-Bearer Authorization header with AuthError', async () => {
    const verifier = new TokenVerifier(SECRET);
    await expect(verifier.verifyHeader(undefined)).rejects.toBeInstanceOf(AuthError);
    await expect(verifier.verifyHeader('Token abc')).rejects.toThrow('Bearer');
  });

  it('answers cachedHeader synchronously for a cached, unexpired token only', async () => {
    let now = Date.now();
    const verifier = new TokenVerifier(SECRET, { now: () => now });
    const token = await signToken({
      userId: 'a',
      workspaceId: 'b',
      secret: SECRET,
      expiresInSeconds: 5,
    });
    expect(verifier.cachedHeader(`Bearer ${token}`)).toBeUndefined();
    const identity = await verifier.verifyHeader(`Bearer ${token}`);
    expect(verifier.cachedHeader(`Bearer ${token}`)).toBe(identity);
    expect(verifier.cachedHeader(undefined)).toBeUndefined();
    expect(verifier.cachedHeader(`Token ${token}`)).toBeUndefined();
    // Other spellings BEARER accepts find the same entry; a token with more after it does not.
    expect(verifier.cachedHeader(`bearer   ${token} `)).toBe(identity);
    expect(verifier.cachedHeader(`Bearer ${token} extra`)).toBeUndefined();
    expect(verifier.cachedHeader(`Bearer ${token}x`)).toBeUndefined();
    now += 10_000;
    // Expired: no answer here, and verifyHeader then refuses it.
    expect(verifier.cachedHeader(`Bearer ${token}`)).toBeUndefined();
    await expect(verifier.verifyHeader(`Bearer ${token}`)).rejects.toThrow('token expired');
  });

  it('does not cache a token that failed', async () => {
    const verifier = new TokenVerifier(SECRET);
    const spy = vi.spyOn(verifier, 'verify');
    await expect(verifier.verify('a.b.c')).rejects.toBeInstanceOf(AuthError);
    expect(verifier.cachedTokens).toBe(0);
    expect(spy).toHaveBeenCalledOnce();
  });
});
