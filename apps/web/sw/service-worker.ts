// The dashboard's service worker: it keeps the built app shell (index.html, the hashed
// JS and CSS, the icon) so a reload with the server unreachable still opens the page,
// which then restores the dashboard from localStorage and shows `offline`.
//
// Rules (docs/OPERATIONS.md, "The offline app shell"):
// - Navigations go to the network first and get the cached shell only when the network
//   fails (or a proxy answers 502/503/504): a new deployment is served on the next load,
//   never an old build from the cache.
// - The precache holds only the public build output, the same for every user; API
//   answers (/api/*, /metrics, /healthz, /readyz) and the WebSocket never pass through a
//   cache. Nothing user-specific is stored here, so sign-out has nothing to clear in it.
// - A new worker (a new build changes its precache manifest) takes over at once and
//   deletes the previous build's precache.
import { clientsClaim } from 'workbox-core';
import {
  addRoute,
  cleanupOutdatedCaches,
  matchPrecache,
  type PrecacheEntry,
  precache,
} from 'workbox-precaching';
import { NavigationRoute, registerRoute } from 'workbox-routing';

declare const self: ServiceWorkerGlobalScope & {
  /** Replaced at build time by vite-plugin-pwa with the build's files and revisions. */
  __WB_MANIFEST: Array<PrecacheEntry | string>;
};

const SHELL_URL = '/index.html';
/** Paths whose navigations are never answered with the shell (server answers only). */
const SERVER_ONLY_PATHS = [/^\/api\//, /^\/metrics(\/|$)/, /^\/healthz$/, /^\/readyz$/];
/** What a proxy in front of a stopped server answers: treated like no network. */
const GATEWAY_FAILURES = new Set([502, 503, 504]);

self.skipWaiting();
clientsClaim();
cleanupOutdatedCaches();
precache(self.__WB_MANIFEST);

self.addEventListener('activate', (event) => {
  // The page request starts while the worker boots, instead of after it.
  if (self.registration.navigationPreload) {
    event.waitUntil(self.registration.navigationPreload.enable());
  }
});

async function shellOr(failure: Response | Error): Promise<Response> {
  const shell = await matchPrecache(SHELL_URL);
  if (shell) return shell;
  // Not installed yet (first visit still precaching): the browser's own answer.
  if (failure instanceof Response) return failure;
  throw failure;
}

async function networkThenShell({
  request,
  event,
}: {
  request: Request;
  event: ExtendableEvent;
}): Promise<Response> {
  let response: Response | undefined;
  try {
    const preloaded = (event as FetchEvent).preloadResponse
      ? ((await (event as FetchEvent).preloadResponse) as Response | undefined)
      : undefined;
    response = preloaded ?? (await fetch(request));
  } catch (error) {
    return shellOr(error instanceof Error ? error : new Error(String(error)));
  }
  return GATEWAY_FAILURES.has(response.status) ? shellOr(response) : response;
}

// Registered before the precache route, which would otherwise answer `/` from the cache.
registerRoute(new NavigationRoute(networkThenShell, { denylist: SERVER_ONLY_PATHS }));
// The build's own files (hashed names): from the precache, else the network.
addRoute();
