// The onRequest hook of the state routes: the per-IP limit (leased, no round trip), the
// token, and whether the user is known to be out of tokens are all checked before the
// body is read, so an anonymous, badly signed or limited client cannot make the server
// read and parse a megabyte, and a flood costs a hash lookup. The user's token itself is
// spent by the store, in the same command as the request's operation (state-routes.ts).
import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { Identity } from '../auth/token.js';
import type { TokenVerifier } from '../auth/token-verifier.js';
import { AuthError } from '../errors.js';
import type { RequestLimiter } from '../rate-limit/request-limiter.js';

declare module 'fastify' {
  interface FastifyRequest {
    /** On the state routes: who the verified bearer token speaks for (set by the gate). */
    identity: Identity | null;
  }
}

export interface RequestGateDependencies {
  verifier: TokenVerifier;
  limiter: RequestLimiter | undefined;
}

/** The identity the gate verified; the state routes run only after it did. */
export function identityOf(request: FastifyRequest): Identity {
  if (request.identity === null) throw new AuthError('missing Authorization: Bearer token');
  return request.identity;
}

function isPromise(value: unknown): value is Promise<void> {
  return value instanceof Promise;
}

async function verifySlowly(
  request: FastifyRequest,
  { verifier, limiter }: RequestGateDependencies,
): Promise<void> {
  await limiter?.ip(request.ip);
  const identity = await verifier.verifyHeader(request.headers.authorization);
  limiter?.user?.check(identity);
  request.identity = identity;
}

/** Authenticates and limits every request of `app`'s routes before their body is read. */
export function gateRequests(app: FastifyInstance, deps: RequestGateDependencies): void {
  const { verifier, limiter } = deps;
  app.decorateRequest('identity', null);
  app.addHook('onRequest', (request, _reply, done) => {
    try {
      const cached = verifier.cachedHeader(request.headers.authorization);
      if (cached === undefined) {
        verifySlowly(request, deps).then(() => done(), done);
        return;
      }
      // The common case (a known token): answered in this turn, without Redis.
      const ip = limiter?.ip(request.ip);
      limiter?.user?.check(cached);
      if (isPromise(ip)) {
        ip.then(() => {
          request.identity = cached;
          done();
        }, done);
        return;
      }
      request.identity = cached;
      done();
    } catch (error) {
      done(error as Error);
    }
  });
}
