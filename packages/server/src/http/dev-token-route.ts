// POST /api/dev/token { user, workspace } -> { token }: a sign-in for demos and local
// development. Registered only when dev auth is on (no AUTH_SECRET configured outside
// production, or DEV_AUTH=1): it hands a token for any user to anyone who asks.
import { ID_PATTERN } from '@hyvve/schema';
import type { FastifyInstance } from 'fastify';
import { signToken } from '../auth/token.js';
import { InvalidRequestError, toApiError } from '../errors.js';
import { isValidId } from '../keys.js';

export const DEV_TOKEN_PATH = '/api/dev/token';

export function registerDevTokenRoute(app: FastifyInstance, secret: string): void {
  app.post(DEV_TOKEN_PATH, async (request, reply) => {
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
    const token = await signToken({ userId: user, workspaceId: workspace, secret });
    return { token };
  });
}
