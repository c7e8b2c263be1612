// The engine's sync status, derived from the connection's and the server store's:
// `synced` once the server holds what this client holds; `offline` while the socket is
// down or the server says its store is (`{ type: 'status', store: 'down' }`); `error`
// when the server refused something or a retry is pending.

export type SyncStatus = 'local-only' | 'connecting' | 'synced' | 'offline' | 'error';

/** What the engine shows: `synced` is not true while the server's store is down. */
export function visibleStatus(status: SyncStatus, storeDown: boolean): SyncStatus {
  return storeDown && status === 'synced' ? 'offline' : status;
}
