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

// Fields are `declare`d and assigned in the constructor: a class field (or a parameter
// property) would also emit a field definition per property, bytes every page pays for.
export class PersistenceError extends Error {
  declare readonly code: PersistenceErrorCode;

  constructor(code: PersistenceErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.code = code;
    this.name = new.target.name;
  }
}

const reasonOf = (cause: unknown): string =>
  cause instanceof Error ? cause.message : String(cause);

/** localStorage refused a write because the origin's quota is used up. */
export class StorageQuotaError extends PersistenceError {
  declare readonly key: string;
  declare readonly bytes: number;

  constructor(key: string, bytes: number, cause: unknown) {
    super(
      'storage_quota_exceeded',
      `localStorage quota exceeded writing "${key}" (${bytes} bytes); state kept in memory only`,
      { cause },
    );
    this.key = key;
    this.bytes = bytes;
  }
}

/** A storage call failed for another reason (disabled storage, private mode, security policy). */
export class StorageAccessError extends PersistenceError {
  declare readonly key: string;
  declare readonly operation: 'read' | 'write' | 'remove';

  constructor(key: string, operation: 'read' | 'write' | 'remove', cause: unknown) {
    super('storage_failed', `localStorage ${operation} of "${key}" failed: ${reasonOf(cause)}`, {
      cause,
    });
    this.key = key;
    this.operation = operation;
  }
}

/** The state's JSON is larger than the limit the server (and this engine) accepts. */
export class StateTooLargeError extends PersistenceError {
  declare readonly bytes: number;
  declare readonly limit: number;

  constructor(bytes: number, limit: number) {
    super('state_too_large', `state is ${bytes} bytes, over the ${limit} byte limit; not saved`);
    this.bytes = bytes;
    this.limit = limit;
  }
}

/** What was found under the storage key (or received from a peer) is not a usable state. */
export class InvalidPersistedStateError extends PersistenceError {
  declare readonly source: string;
  declare readonly path: string;
  declare readonly reason: string;

  constructor(source: string, path: string, reason: string) {
    super('invalid_persisted_state', `discarded invalid state from ${source}: ${reason}`);
    this.source = source;
    this.path = path;
    this.reason = reason;
  }
}

/** The BroadcastChannel could not be opened or a message could not be posted. */
export class CrossTabError extends PersistenceError {
  declare readonly operation: 'open' | 'post';

  constructor(operation: 'open' | 'post', cause: unknown) {
    super('cross_tab_failed', `cross-tab ${operation} failed: ${reasonOf(cause)}`, { cause });
    this.operation = operation;
  }
}

/** The server answered a save, delete or load with an error status. */
export class ServerRejectedError extends PersistenceError {
  declare readonly status: number;
  declare readonly error: string;
  declare readonly detail: string;
  declare readonly requestId?: string;

  constructor(status: number, error: string, detail: string, requestId?: string) {
    super('server_rejected', `server rejected the request (${status} ${error}): ${detail}`);
    this.status = status;
    this.error = error;
    this.detail = detail;
    // Always an own property (undefined when absent), as the parameter property made it.
    (this as { requestId?: string | undefined }).requestId = requestId;
  }
}

/** The server could not be reached, or the socket closed. */
export class ServerUnreachableError extends PersistenceError {
  declare readonly url: string;
  declare readonly closeCode: number | undefined;

  constructor(
    url: string,
    closeCode: number | undefined,
    detail: string,
    options?: { cause?: unknown },
  ) {
    super('server_unreachable', `server ${url} unreachable: ${detail}`, options);
    this.url = url;
    this.closeCode = closeCode;
  }
}

/** `getToken()` threw or returned nothing: the connection cannot authenticate. */
export class TokenError extends PersistenceError {
  constructor(cause: unknown) {
    super('token_failed', `getToken() failed: ${reasonOf(cause)}`, { cause });
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
