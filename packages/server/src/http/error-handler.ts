// Turns every failure of the dashboard routes into the API's JSON error body, using the
// one status table in errors.ts. Fastify's own client errors (body too large, bad JSON)
// are translated first so callers always see the same shape.
import type { FastifyReply, FastifyRequest } from 'fastify';
import {
  InvalidRequestError,
  RateLimitedError,
  StateTooLargeError,
  toApiError,
  UnsupportedMediaTypeError,
} from '../errors.js';

interface FrameworkError {
  code?: unknown;
  statusCode?: unknown;
  message?: unknown;
}

function isFrameworkError(error: unknown): error is FrameworkError {
  return typeof error === 'object' && error !== null && 'statusCode' in error;
}

/** Our error for one of Fastify's (or the error itself when it is not one). */
function translate(error: unknown, request: FastifyRequest, maxStateBytes: number): unknown {
  if (!isFrameworkError(error)) return error;
  if (error.code === 'FST_ERR_CTP_BODY_TOO_LARGE') {
    const size = Number(request.headers['content-length'] ?? Number.NaN);
    return new StateTooLargeError(Number.isFinite(size) ? size : maxStateBytes + 1, maxStateBytes);
  }
  if (error.code === 'FST_ERR_CTP_INVALID_MEDIA_TYPE') {
    return new UnsupportedMediaTypeError(
      `unsupported Content-Type ${request.headers['content-type'] ?? '(none)'}`,
    );
  }
  const status = typeof error.statusCode === 'number' ? error.statusCode : 500;
  if (status >= 400 && status < 500) {
    return new InvalidRequestError(
      typeof error.message === 'string' ? error.message : 'bad request',
    );
  }
  return error;
}

export function sendApiError(
  reply: FastifyReply,
  request: FastifyRequest,
  thrown: unknown,
  maxStateBytes: number,
): FastifyReply {
  const error = translate(thrown, request, maxStateBytes);
  const { status, body } = toApiError(error);
  if (status >= 500) {
    const level = status === 503 ? 'warn' : 'error';
    request.log[level](
      { reqId: request.id, status, code: body.error, err: error },
      'request failed',
    );
  } else {
    request.log.debug({ reqId: request.id, status, code: body.error }, 'request rejected');
  }
  if (error instanceof RateLimitedError) {
    reply.header('retry-after', String(Math.max(1, Math.ceil(error.retryAfterMs / 1000))));
  }
  return reply.code(status).send(body);
}
