// HTTP routes of the state API. Workspace and user come from the verified token only
// (checked, with the limits, by the request gate before the body is read); the body
// carries nothing but the state (and an optional origin).

import {
  JSON_PATCH_CONTENT_TYPE,
  MERGE_PATCH_CONTENT_TYPE,
  type PatchContentType,
  STATE_PATH,
  type StatePatchRequest,
} from '@hyvve/schema';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { TokenVerifier } from '../auth/token-verifier.js';
import { InvalidRequestError, StateNotFoundError, UnsupportedMediaTypeError } from '../errors.js';
import type { RequestLimiter } from '../rate-limit/request-limiter.js';
import { limitedBy, refuseAfterSpending } from '../rate-limit/user-limit.js';
import { toPatchRequest } from '../service/apply-patch.js';
import type { StatePersistenceService, StateSource } from '../service/state-persistence-service.js';
import { etagOf, matchesIfNoneMatch, parseIfMatch } from './conditional-headers.js';
import { appJsonParser } from './json-text.js';
import { gateRequests, identityOf } from './request-gate.js';

export interface StateRouteDependencies {
  service: StatePersistenceService;
  verifier: TokenVerifier;
  limiter: RequestLimiter | undefined;
  /** Request body limit of saves: a little above the state limit, so oversize gets our 413. */
  bodyLimit: number;
}

const JSON_TYPE = 'application/json; charset=utf-8';
const HTTP_ORIGIN = 'http';
/** A body that starts so has the state's value at this index (no whitespace before it). */
const STATE_FIRST = '{"state":';

declare module 'fastify' {
  interface FastifyRequest {
    /**
     * On the state routes: a save body as received (text decoded from UTF-8 that
     * JSON.parse accepted) when it starts with the state, else ''. Lets the service
     * store the state's text as is when it is already canonical JSON.
     */
    stateBodyText: string;
  }
}

/**
 * Fastify's own JSON parser (same prototype-poisoning rules, same errors), keeping the
 * text of bodies that start with the state. Only for the routes registered here.
 */
function keepStateBodyText(app: FastifyInstance): void {
  const parse = appJsonParser(app);
  // A decoration, not a WeakMap: one slot in the request's shape, nothing for the GC.
  app.decorateRequest('stateBodyText', '');
  app.removeContentTypeParser('application/json');
  app.addContentTypeParser(
    'application/json',
    { parseAs: 'string' },
    (request: FastifyRequest, body: string, done) => {
      // Many HTTP clients send GET and DELETE with a JSON content type and no body: that
      // is no body, not bad JSON. A save without one still gets its 400 from readSaveBody.
      if (body === '') {
        done(null, undefined);
        return;
      }
      if (body.startsWith(STATE_FIRST)) request.stateBodyText = body;
      parse(request, body, done);
    },
  );
  // PATCH bodies: JSON too, parsed by the same rules; the route tells the formats apart.
  app.addContentTypeParser(
    [MERGE_PATCH_CONTENT_TYPE, JSON_PATCH_CONTENT_TYPE],
    { parseAs: 'string' },
    (request: FastifyRequest, body: string, done) => parse(request, body, done),
  );
}

/** The patch format a PATCH request's Content-Type names (parameters like charset ignored). */
function patchContentType(header: string | undefined): PatchContentType {
  const type = header?.split(';')[0]?.trim().toLowerCase();
  if (type === MERGE_PATCH_CONTENT_TYPE || type === JSON_PATCH_CONTENT_TYPE) return type;
  throw new UnsupportedMediaTypeError(
    `PATCH takes ${MERGE_PATCH_CONTENT_TYPE} (RFC 7386) or ${JSON_PATCH_CONTENT_TYPE} (RFC 6902), not ${type ?? 'no content type'}`,
  );
}

function stateSource(request: FastifyRequest): StateSource | undefined {
  const text = request.stateBodyText;
  return text === '' ? undefined : { text, start: STATE_FIRST.length };
}

interface SaveBody {
  state: unknown;
  origin: string | undefined;
}

function readSaveBody(body: unknown): SaveBody {
  if (typeof body !== 'object' || body === null || Array.isArray(body) || !('state' in body)) {
    throw new InvalidRequestError('body must be a JSON object { "state": <DashboardState> }');
  }
  const origin = 'origin' in body ? body.origin : undefined;
  if (
    origin !== undefined &&
    (typeof origin !== 'string' || origin.length === 0 || origin.length > 128)
  ) {
    throw new InvalidRequestError('origin must be a string of 1 to 128 characters');
  }
  return { state: body.state, origin };
}

export function registerStateRoutes(app: FastifyInstance, deps: StateRouteDependencies): void {
  const { service, verifier, limiter, bodyLimit } = deps;
  keepStateBodyText(app);
  gateRequests(app, { verifier, limiter });
  // The user's limit, spent in the same store call as the request's operation.
  const limited = limitedBy(limiter?.user);

  app.get(STATE_PATH, async (request, reply) => {
    const { scope } = identityOf(request);
    const loaded = await limited(scope, (limit) => service.loadJson(scope, limit));
    if (!loaded) throw new StateNotFoundError();
    reply.header('etag', etagOf(loaded.revision, loaded.epoch)).header('cache-control', 'no-cache');
    if (matchesIfNoneMatch(request.headers['if-none-match'], loaded.revision, loaded.epoch)) {
      return reply.code(304).send();
    }
    return reply.type(JSON_TYPE).send(loaded.json);
  });

  const save = async (request: FastifyRequest, reply: FastifyReply): Promise<FastifyReply> => {
    const { scope } = identityOf(request);
    // One limited call: a body refused before the store spends the user's token alone.
    const result = await limited(scope, (limit) => {
      let body: SaveBody;
      let ifMatch: ReturnType<typeof parseIfMatch>;
      try {
        body = readSaveBody(request.body);
        ifMatch = parseIfMatch(request.headers['if-match']);
      } catch (error) {
        return refuseAfterSpending(service, scope, limit, error);
      }
      const source = stateSource(request);
      return service.save(scope, body.state, {
        origin: body.origin ?? HTTP_ORIGIN,
        ...(ifMatch === undefined ? {} : { ifMatch: ifMatch.revision }),
        ...(ifMatch?.epoch === undefined ? {} : { ifMatchEpoch: ifMatch.epoch }),
        ...(source === undefined ? {} : { source }),
        ...limit,
      });
    });
    return reply
      .header('etag', etagOf(result.revision, result.epoch))
      .type(JSON_TYPE)
      .send(
        `{"revision":${result.revision},"savedAt":${result.savedAt},"epoch":${JSON.stringify(result.epoch)}}`,
      );
  };
  app.post(STATE_PATH, { bodyLimit }, save);
  app.put(STATE_PATH, { bodyLimit }, save);

  // Agents and services change part of the state without clobbering the user's other
  // changes: the patch is applied to the stored state atomically (see applyPatch).
  // 404 when nothing is stored: a patch needs a state to apply to (POST a full one).
  app.patch(STATE_PATH, { bodyLimit }, async (request, reply) => {
    const { scope } = identityOf(request);
    const result = await limited(scope, (limit) => {
      let patch: StatePatchRequest;
      let ifMatch: ReturnType<typeof parseIfMatch>;
      try {
        patch = toPatchRequest(patchContentType(request.headers['content-type']), request.body);
        ifMatch = parseIfMatch(request.headers['if-match']);
      } catch (error) {
        return refuseAfterSpending(service, scope, limit, error);
      }
      return service.patch(scope, patch, {
        origin: HTTP_ORIGIN,
        ...(ifMatch === undefined ? {} : { ifMatch: ifMatch.revision }),
        ...(ifMatch?.epoch === undefined ? {} : { ifMatchEpoch: ifMatch.epoch }),
        ...limit,
      });
    });
    return reply
      .header('etag', etagOf(result.revision, result.epoch))
      .type(JSON_TYPE)
      .send(
        `{"revision":${result.revision},"savedAt":${result.savedAt},"epoch":${JSON.stringify(result.epoch)}}`,
      );
  });

  app.delete(STATE_PATH, async (request, reply) => {
    const { scope } = identityOf(request);
    await limited(scope, (limit) => service.delete(scope, { origin: HTTP_ORIGIN, ...limit }));
    return reply.code(204).send();
  });
}
