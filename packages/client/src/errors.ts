// Typed errors of the persistence engine. Each carries the context a developer (or a
// support person reading logs) needs to act on it; all of them reach `onError`.

export type PersistenceErrorCode =
  | 'storage_unavailable'
  | 'storage_quota_exceeded'
  | 'storage_failed'
  | 'state_too_large'
  | 'invalid_persisted_state'
  | 'cross_tab_failed'
  | 'server_rejected'
  | 'server_unreachable'
  | 'token_failed';

export class PersistenceError extends Error {
  readonly code: PersistenceErrorCode;

  constructor(code: PersistenceErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = new.target.name;
    this.code = code;
  }
}

/** localStorage refused a write because the origin's quota is used up. */
export class StorageQuotaError extends PersistenceError {
  constructor(
    readonly key: string,
    readonly bytes: number,
    cause: unknown,
  ) {
    super(
      'storage_quota_exceeded',
      `localStorage quota exceeded writing "${key}" (${bytes} bytes); state kept in memory only`,
      { cause },
    );
  }
}

/** A storage call failed for another reason (disabled storage, private mode, security policy). */
export class StorageAccessError extends PersistenceError {
  constructor(
    readonly key: string,
    readonly operation: 'read' | 'write' | 'remove',
    cause: unknown,
  ) {
    const reason = cause instanceof Error ? cause.message : String(cause);
    super('storage_failed', `localStorage ${operation} of "${key}" failed: ${reason}`, { cause });
  }
}

/** The state's JSON is larger than the limit the server (and this engine) accepts. */
export class StateTooLargeError extends PersistenceError {
  constructor(
    readonly bytes: number,
    readonly limit: number,
  ) {
    super('state_too_large', `state is ${bytes} bytes, over the ${limit} byte limit; not saved`);
  }
}

/** What was found under the storage key (or received from a peer) is not a usable state. */
export class InvalidPersistedStateError extends PersistenceError {
  constructor(
    readonly source: string,
    readonly path: string,
    readonly reason: string,
  ) {
    super('invalid_persisted_state', `discarded invalid state from ${source}: ${reason}`);
  }
}

/** The BroadcastChannel could not be opened or a message could not be posted. */
export class CrossTabError extends PersistenceError {
  constructor(
    readonly operation: 'open' | 'post',
    cause: unknown,
  ) {
    const reason = cause instanceof Error ? cause.message : String(cause);
    super('cross_tab_failed', `cross-tab ${operation} failed: ${reason}`, { cause });
  }
}

/** The server answered a save, delete or load with an error status. */
export class ServerRejectedError extends PersistenceError {
  constructor(
    readonly status: number,
    readonly error: string,
    readonly detail: string,
    readonly requestId?: string,
  ) {
    super('server_rejected', `server rejected the request (${status} ${error}): ${detail}`);
  }
}

/** The server could not be reached, or the socket closed. */
export class ServerUnreachableError extends PersistenceError {
  constructor(
    readonly url: string,
    readonly closeCode: number | undefined,
    detail: string,
    options?: { cause?: unknown },
  ) {
    super('server_unreachable', `server ${url} unreachable: ${detail}`, options);
  }
}

/** `getToken()` threw or returned nothing: the connection cannot authenticate. */
export class TokenError extends PersistenceError {
  constructor(cause: unknown) {
    const reason = cause instanceof Error ? cause.message : String(cause);
    super('token_failed', `getToken() failed: ${reason}`, { cause });
  }
}

/** True for the different ways browsers report a full storage quota. */
export function isQuotaExceeded(error: unknown): boolean {
  if (typeof error !== 'object' || error === null) return false;
  const { name, code } = error as { name?: unknown; code?: unknown };
  return (
    name === 'QuotaExceededError' ||
    name === 'NS_ERROR_DOM_QUOTA_REACHED' ||
    code === 22 ||
    code === 1014
  );
}
