// Derives the HTTP and WebSocket endpoints from the one `server.url` option, which may be
// http(s), ws(s) or (in a browser) relative to the page. A query string on that URL
// (e.g. a proxy's routing key) is kept on both endpoints.

import { STATE_PATH, SUBSCRIBE_PATH } from '@hyvve/schema';

export { STATE_PATH, SUBSCRIBE_PATH };

/**
 * Asks the server for `patch` messages (deltas against the previous revision) instead
 * of a full `state` per change; the client applies them to its copy of the server state.
 */
export const PATCHES_QUERY = { name: 'patches', value: '1' } as const;

export interface ServerEndpoints {
  stateUrl: string;
  subscribeUrl: string;
}

export function resolveServerEndpoints(url: string, pageUrl?: string): ServerEndpoints {
  const base = new URL(url, pageUrl);
  const path = base.pathname.replace(/\/+$/, '');
  const secure = base.protocol === 'https:' || base.protocol === 'wss:';
  const host = base.host;
  const subscribeQuery = new URLSearchParams(base.search);
  subscribeQuery.set(PATCHES_QUERY.name, PATCHES_QUERY.value);
  return {
    stateUrl: `${secure ? 'https' : 'http'}://${host}${path}${STATE_PATH}${base.search}`,
    subscribeUrl: `${secure ? 'wss' : 'ws'}://${host}${path}${SUBSCRIBE_PATH}?${subscribeQuery}`,
  };
}
