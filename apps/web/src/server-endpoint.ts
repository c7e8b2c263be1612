// The sync server lives on the same origin as the page: ws:// beside http://, wss://
// beside https://, so the page works behind any host, port or TLS terminator. The
// engine appends `/api/dashboard/state/subscribe` (socket) and `/api/dashboard/state`.
export function syncServerUrl(location: Pick<Location, 'protocol' | 'host'>): string {
  const scheme = location.protocol === 'https:' ? 'wss:' : 'ws:';
  return `${scheme}//${location.host}`;
}
