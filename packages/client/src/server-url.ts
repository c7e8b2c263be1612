// Derives the HTTP and WebSocket endpoints from the one `server.url` option, which may be
// http(s), ws(s) or (in a browser) relative to the page.

export const SUBSCRIBE_PATH = '/api/dashboard/state/subscribe';
export const STATE_PATH = '/api/dashboard/state';

export interface ServerEndpoints {
  stateUrl: string;
  subscribeUrl: string;
}

export function resolveServerEndpoints(url: string, pageUrl?: string): ServerEndpoints {
  const base = new URL(url, pageUrl);
  const path = base.pathname.replace(/\/+$/, '');
  const secure = base.protocol === 'https:' || base.protocol === 'wss:';
  const host = base.host;
  return {
    stateUrl: `${secure ? 'https' : 'http'}://${host}${path}${STATE_PATH}`,
    subscribeUrl: `${secure ? 'wss' : 'ws'}://${host}${path}${SUBSCRIBE_PATH}`,
  };
}
