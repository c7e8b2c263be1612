// One class per failure a caller can act on, and the single place where each is
// mapped to an HTTP status and a JSON body (HTTP routes and WebSocket replies both use it).
import { type ApiErrorBody, type ApiErrorCode, ID_PATTERN, type StoredState } from '@hyvve/schema';

/** Base of every error the persistence layer raises on purpose. */
export abstract class PersistenceError extends Error {
  abstract readonly code: ApiErrorCode;
  override get name(): string {
    return this.constructor.name;
  }
  /** Extra fields for the JSON error body (path, size, current, ...). */
  details(): Partial<ApiErrorBody> {
    return {};
  }
}

/** The request is malformed: bad JSON, missing fields, an id that is not allowed. */
export class InvalidRequestError extends PersistenceError {
  readonly code = 'invalid_request';
}

/** A workspace or user id that does not match ID_PATTERN; checked before any key is built. */
export class InvalidIdError extends InvalidRequestError {
  constructor(
    readonly field: 'workspaceId' | 'userId',
    readonly value: string,
  ) {
    super(`${field} must match ${ID_PATTERN.source}`);
  }
  override details(): Partial<ApiErrorBody> {
    return { path: this.field };
  }
}

/** The state fails the schema; `path` names the first failing value (e.g. `widgets.alerts.0.type`). */
export class InvalidStateError extends PersistenceError {
  readonly code = 'invalid_state';
  constructor(
    readonly path: string,
    message: string,
  ) {
    super(`state is invalid at ${message}`);
  }
  override details(): Partial<ApiErrorBody> {
    return { path: this.path };
  }
}

/**
 * `state.timestamp` is further ahead of the server clock than allowed; `serverTime` tells
 * the client the server's time so it can re-stamp and save again.
 */
export class ClockAheadError extends InvalidStateError {
  constructor(
    message: string,
    readonly serverTime: number,
  ) {
    super('timestamp', message);
  }
  override details(): Partial<ApiErrorBody> {
    return { path: this.path, serverTime: this.serverTime };
  }
}

/** The persistable state's JSON is larger than the limit. */
export class StateTooLargeError extends PersistenceError {
  readonly code = 'state_too_large';
  constructor(
    readonly size: number,
    readonly limit: number,
  ) {
    super(`state is ${size} bytes, the limit is ${limit} bytes`);
  }
  override details(): Partial<ApiErrorBody> {
    return { size: this.size, limit: this.limit };
  }
}

/** `If-Match` / `baseRevision` names a revision that is no longer the stored one. */
export class StaleRevisionError extends PersistenceError {
  readonly code = 'precondition_failed';
  constructor(
    readonly expected: number,
    readonly current: number,
  ) {
    super(`expected revision ${expected} but the stored revision is ${current}`);
  }
  override details(): Partial<ApiErrorBody> {
    return { revision: this.current };
  }
}

/** The incoming state is older than the stored one (newer wins); carries the winner. */
export class StateConflictError extends PersistenceError {
  readonly code = 'conflict';
  constructor(readonly current: StoredState) {
    super(`a newer state (revision ${current.revision}) is already stored`);
  }
  override details(): Partial<ApiErrorBody> {
    return { current: this.current };
  }
}

/** A PATCH that does not apply to the stored state (a path not there, a failed `test`). */
export class PatchConflictError extends PersistenceError {
  readonly code = 'conflict';
  constructor(
    message: string,
    readonly current: StoredState,
  ) {
    super(message);
  }
  override details(): Partial<ApiErrorBody> {
    return { current: this.current };
  }
}

/** The stored state changed under every attempt to apply a PATCH: retry later. */
export class PatchContentionError extends PersistenceError {
  readonly code = 'conflict';
  constructor(readonly attempts: number) {
    super(`the state changed during each of ${attempts} attempts to apply the patch; retry`);
  }
}

/** A request body in a format the route does not take (e.g. PATCH with application/json). */
export class UnsupportedMediaTypeError extends PersistenceError {
  readonly code = 'unsupported_media_type';
}

/** The store (Redis) cannot be reached or did not answer in time. */
export class StoreUnavailableError extends PersistenceError {
  readonly code = 'store_unavailable';
  constructor(message = 'the state store is unavailable', options?: { cause?: unknown }) {
    super(message, options);
  }
}

/** The user saves faster than the configured rate. */
export class RateLimitedError extends PersistenceError {
  readonly code = 'rate_limited';
  constructor(readonly retryAfterMs: number) {
    super(`too many saves, retry in ${retryAfterMs} ms`);
  }
  override details(): Partial<ApiErrorBody> {
    return { retryAfterMs: this.retryAfterMs };
  }
}

/** Missing, malformed, expired or wrongly signed token, or claims that are not valid ids. */
export class AuthError extends PersistenceError {
  readonly code = 'unauthorized';
}

/** Nothing is stored for this user (never saved, deleted, or expired). */
export class StateNotFoundError extends PersistenceError {
  readonly code = 'not_found';
  constructor() {
    super('no state is stored for this user');
  }
}

/** A variable that is missing or malformed; the message says which and what is expected. */
export class ConfigError extends Error {
  override name = 'ConfigError';
  constructor(
    readonly variable: string,
    message: string,
  ) {
    super(`${variable} ${message}`);
  }
}

/**
 * An option given in code (to the plugin, `startServer`, a store) that is missing or
 * malformed: `option` names it (`authSecret`, `rateLimit.burst`), the message says what
 * is expected and what was given. A ConfigError, so one catch handles both sources.
 */
export class OptionError extends ConfigError {
  override name = 'OptionError';
  constructor(
    readonly option: string,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(option, message);
    if (options?.cause !== undefined) this.cause = options.cause;
  }
}

const STATUS_BY_CODE: Readonly<Record<ApiErrorCode, number>> = {
  invalid_request: 400,
  invalid_state: 400,
  unauthorized: 401,
  not_found: 404,
  conflict: 409,
  precondition_failed: 412,
  state_too_large: 413,
  unsupported_media_type: 415,
  rate_limited: 429,
  internal_error: 500,
  store_unavailable: 503,
};

export interface ApiError {
  status: number;
  body: ApiErrorBody;
}

/** Maps any thrown value to the status and JSON body the API answers with. */
export function toApiError(error: unknown): ApiError {
  if (error instanceof PersistenceError) {
    return {
      status: STATUS_BY_CODE[error.code],
      body: { error: error.code, message: error.message, ...error.details() },
    };
  }
  return {
    status: 500,
    body: { error: 'internal_error', message: 'internal server error' },
  };
}

export function statusOf(code: ApiErrorCode): number {
  return STATUS_BY_CODE[code];
}
