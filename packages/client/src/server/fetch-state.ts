// The one HTTP call the engine makes: reading the stored state when the socket's `ready`
// says the server moved on (the socket protocol has no "get").
import { type DashboardState, validateDashboardState } from '@hyvve/schema';
import { isRecord } from '../content/owner.js';
import {
  InvalidPersistedStateError,
  ServerRejectedError,
  ServerUnreachableError,
} from '../errors.js';
import { fetchFailureDetail, pageOrigin } from './cors.js';

export type FetchLike = (
  url: string,
  init: { method: string; headers: Record<string, string> },
) => Promise<{ status: number; json(): Promise<unknown> }>;

export interface FetchedState {
  state: DashboardState;
  revision: number;
  savedAt: number;
}

/**
 * GET the stored state. `null` when the server holds none (404). Throws typed errors; a
 * request the browser refused from another origin says CORS and names `origin` (the page's).
 */
export async function fetchStoredState(
  fetchFn: FetchLike,
  stateUrl: string,
  token: string,
  origin: string | undefined = pageOrigin(),
): Promise<FetchedState | null> {
  let response: Awaited<ReturnType<FetchLike>>;
  try {
    response = await fetchFn(stateUrl, {
      method: 'GET',
      headers: { authorization: `Bearer ${token}`, accept: 'application/json' },
    });
  } catch (error) {
    const detail = fetchFailureDetail('GET', stateUrl, error, origin);
    throw new ServerUnreachableError(stateUrl, undefined, detail, { cause: error });
  }
  if (response.status === 404) return null;
  const body: unknown = await response.json().catch(() => null);
  if (response.status !== 200) {
    const error = isRecord(body) && typeof body.error === 'string' ? body.error : 'http_error';
    const message = isRecord(body) && typeof body.message === 'string' ? body.message : '';
    throw new ServerRejectedError(response.status, error, message || `GET ${stateUrl}`);
  }
  if (!isRecord(body) || typeof body.revision !== 'number' || typeof body.savedAt !== 'number') {
    throw new InvalidPersistedStateError(
      `GET ${stateUrl}`,
      '(root)',
      'expected { state, revision, savedAt }',
    );
  }
  const checked = validateDashboardState(body.state);
  if (!checked.success) {
    throw new InvalidPersistedStateError(
      `GET ${stateUrl}`,
      `state.${checked.error.path}`,
      checked.error.message,
    );
  }
  return { state: checked.data, revision: body.revision, savedAt: body.savedAt };
}

/** The global fetch, looked up when called (tests and polyfills may install it late). */
export function defaultFetch(): FetchLike {
  return (url, init) => globalThis.fetch(url, init);
}
