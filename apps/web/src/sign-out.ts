// What sign-out does to the server's copy: the engine deletes it over its socket; when
// the socket is not connected the engine only queues the delete, and sign-out stops the
// engine, so the page deletes over HTTP while it still holds the token.
import { type ClearResult, ServerUnreachableError } from '@hyvve/client';
import { deleteServerCopy } from './server-copy.js';

/** What became of the server's copy, by whichever way reached the server. */
export type ServerCopyOutcome =
  | { kind: 'deleted' | 'nothing-stored' | 'disabled' }
  /** Neither the socket nor HTTP reached the server: the copy expires with its TTL. */
  | { kind: 'unreachable' }
  /** The server refused the delete or did not confirm it. */
  | { kind: 'failed'; error: unknown };

async function deleteOverHttp(token: string): Promise<ServerCopyOutcome> {
  try {
    await deleteServerCopy(token);
    return { kind: 'deleted' };
  } catch (error) {
    console.error('[sign-out] the HTTP delete of the server copy failed too', error);
    return error instanceof ServerUnreachableError
      ? { kind: 'unreachable' }
      : { kind: 'failed', error };
  }
}

/**
 * Clears this tab, the other tabs and the server copy (`clear` is the engine's
 * `clearPersistedState`). Never rejects: every failure is reported in the outcome.
 */
export async function clearForSignOut(
  clear: () => Promise<ClearResult>,
  token: string,
): Promise<ServerCopyOutcome> {
  let result: ClearResult;
  try {
    result = await clear();
  } catch (error) {
    if (error instanceof ServerUnreachableError) {
      console.warn(
        '[sign-out] the socket closed before the delete was answered; using HTTP',
        error,
      );
      return deleteOverHttp(token);
    }
    console.error('[sign-out] the server did not delete its copy of the dashboard', error);
    return { kind: 'failed', error };
  }
  if (result.server !== 'offline-queued') return { kind: result.server };
  console.warn('[sign-out] the socket is not connected; deleting the server copy over HTTP');
  return deleteOverHttp(token);
}
