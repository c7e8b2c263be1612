// Every error maps to one status and a JSON body in one place, for HTTP and WebSocket.
import { describe, expect, it } from 'vitest';
import { makeState } from '../../../test-support/fixtures.js';
import {
  AuthError,
  InvalidIdError,
  InvalidRequestError,
  InvalidStateError,
  RateLimitedError,
  StaleRevisionError,
  StateConflictError,
  StateNotFoundError,
  StateTooLargeError,
  StoreUnavailableError,
  statusOf,
  toApiError,
} from '../src/index.js';

describe('toApiError', () => {
  it.each([
    [new InvalidRequestError('bad'), 400, 'invalid_request'],
    [new InvalidIdError('userId', 'a:b'), 400, 'invalid_request'],
    [new InvalidStateError('widgets', 'widgets: nope'), 400, 'invalid_state'],
    [new AuthError('no'), 401, 'unauthorized'],
    [new StateNotFoundError(), 404, 'not_found'],
    [new StateConflictError({ state: makeState(), revision: 3, savedAt: 1 }), 409, 'conflict'],
    [new StaleRevisionError(1, 2), 412, 'precondition_failed'],
    [new StateTooLargeError(2, 1), 413, 'state_too_large'],
    [new RateLimitedError(250), 429, 'rate_limited'],
    [new StoreUnavailableError(), 503, 'store_unavailable'],
  ])('maps %s to %i %s', (error, status, code) => {
    const mapped = toApiError(error);
    expect(mapped.status).toBe(status);
    expect(mapped.body.error).toBe(code);
    expect(mapped.body.message).toBe(error.message);
    expect(statusOf(error.code)).toBe(status);
  });

  it('adds the context a caller can act on', () => {
    expect(toApiError(new StateTooLargeError(2_000_000, 1_048_576)).body).toMatchObject({
      size: 2_000_000,
      limit: 1_048_576,
    });
    expect(toApiError(new InvalidStateError('widgets.alerts', 'x')).body.path).toBe(
      'widgets.alerts',
    );
    expect(toApiError(new InvalidIdError('workspaceId', '*')).body.path).toBe('workspaceId');
    expect(toApiError(new RateLimitedError(250)).body.retryAfterMs).toBe(250);
    const current = { state: makeState(), revision: 3, savedAt: 1 };
    expect(toApiError(new StateConflictError(current)).body.current).toBe(current);
  });

  it('hides anything unexpected behind a 500 internal_error', () => {
    expect(toApiError(new Error('secret detail'))).toEqual({
      status: 500,
      body: { error: 'internal_error', message: 'internal server error' },
    });
    expect(toApiError('thrown string').status).toBe(500);
  });

  it('names errors by their class', () => {
    expect(new StaleRevisionError(1, 2).name).toBe('StaleRevisionError');
  });
});
