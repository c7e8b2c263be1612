// POST /api/dev/token { user, workspace } -> { token }: a sign-in for demos and local
// development. Registered only when dev auth is on (no AUTH_SECRET on a loopback HOST,
// or DEV_AUTH=1), never with NODE_ENV=production: it hands a token for any user to
// anyone who asks.
import { ID_PATTERN } from '@hyvve/schema';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { signToken } from '../auth/token.js';
import { InvalidRequestError, toApiError } from '../errors.js';
import type { RequestLimiter } from '../rate-limit/request-limiter.js';
import { isValidId } from '../scope.js';
import { sendApiError } from './error-handler.js';

export const DEV_TOKEN_PATH = '/api/dev/token';

/** Thrown when something tries to turn the dev sign-in on in production. */
export class DevAuthInProductionError extends Error {
  override name = 'DevAuthInProductionError';
  constructor() {
    super('DEV_AUTH: the dev sign-in must not run with NODE_ENV=production');
  }
}

export function registerDevTokenRoute(
  app: FastifyInstance,
  secret: string,
  limiter?: RequestLimiter,
): void {
  // A second guard behind loadConfig's: whoever builds the app directly gets it too.
  if (process.env.NODE_ENV === 'production') throw new DevAuthInProductionError();
  const limited = {
    // Before the body is read, like the state routes.
    onRequest: async (request: FastifyRequest, reply: FastifyReply) => {
      try {
        await limiter?.ip(request.ip);
      } catch (error) {
        return sendApiError(reply, request, error, 0);
      }
    },
  };
  app.post(DEV_TOKEN_PATH, limited, async (request, reply) => {
    const body = request.body;
    const user =
      typeof body === 'object' && body !== null && 'user' in body ? body.user : undefined;
    const workspace =
      typeof body === 'object' && body !== null && 'workspace' in body ? body.workspace : undefined;
    if (!isValidId(user) || !isValidId(workspace)) {
      const { status, body: error } = toApiError(
        new InvalidRequestError(`user and workspace must be ids matching ${ID_PATTERN.source}`),
      );
      return reply.code(status).send(error);
    }
    // Optional shorter lifetime (demos of renewal, tests); never past the default 24 h.
    const expires =
      typeof body === 'object' && body !== null && 'expiresInSeconds' in body
        ? body.expiresInSeconds
        : undefined;
    if (
      expires !== undefined &&
      (typeof expires !== 'number' || !Number.isInteger(expires) || expires < 1 || expires > 86_400)
    ) {
      const { status, body: error } = toApiError(
        new InvalidRequestError('expiresInSeconds must be an integer from 1 to 86400'),
      );
      return reply.code(status).send(error);
    }
    const token = await signToken({
      userId: user,
      workspaceId: workspace,
      secret,
      ...(expires === undefined ? {} : { expiresInSeconds: expires }),
    });
    return { token };
  });
}
