// Registers the service worker that keeps the app shell for offline reloads
// (sw/service-worker.ts). Production builds only (the dev server has no worker), and only
// where the browser offers service workers: not on plain http other than localhost, not
// in some private modes, not where a policy blocks them. Without one the page works as
// before, it just cannot open while the server is unreachable.
export const SERVICE_WORKER_URL = '/service-worker.js';

export function registerServiceWorker(): void {
  if (!import.meta.env.PROD || !('serviceWorker' in navigator)) return;
  const register = (): void => {
    // updateViaCache 'none': the browser checks the worker script past its HTTP cache on
    // every navigation, so a deployment's new worker is found on the next load.
    navigator.serviceWorker
      .register(SERVICE_WORKER_URL, { scope: '/', updateViaCache: 'none' })
      .catch((error: unknown) => {
        console.warn('[offline] no service worker: the page will not open offline', error);
      });
  };
  // After the page's own load, so installing (precaching the shell) never slows it.
  if (document.readyState === 'complete') register();
  else window.addEventListener('load', register, { once: true });
}
