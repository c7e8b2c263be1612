// Derives the HTTP and WebSocket endpoints from the one `server.url` option, which may be
// http(s), ws(s) or (in a browser) relative to the page. A query string on that URL
// (e.g. a proxy's routing key) is kept on both endpoints.

import { STATE_PATH, SUBSCRIBE_PATH } from '@hyvve/schema';

export { STATE_PATH, SUBSCRIBE_PATH };

export interface ServerEndpoints {
  stateUrl: string;
  subscribeUrl: string;
}

export function resolveServerEndpoints(url: string, pageUrl?: string): ServerEndpoints {
  const base = new URL(url, pageUrl);
  const path = base.pathname.replace(/\/+$/, '');
  const s = base.protocol === 'https:' || base.protocol === 'wss:' ? 's' : '';
  const host = base.host;
  const subscribeQuery = new URLSearchParams(base.search);
  // Asks the server for `patch` messages (deltas against the previous revision) instead
  // of a full `state` per change; the client applies them to its copy of the server state.
  subscribeQuery.set('patches', '1');
  return {
    stateUrl: `http${s}://${host}${path}${STATE_PATH}${base.search}`,
    subscribeUrl: `ws${s}://${host}${path}${SUBSCRIBE_PATH}?${subscribeQuery}`,
  };
}
