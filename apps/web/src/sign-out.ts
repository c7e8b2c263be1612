// Sign-out and "reset my dashboard", as the page offers them. Sign-out is local: the
// engine clears this browser's copies (this tab, the other tabs, saves not sent yet) and
// the server copy stays, so the dashboard is still there on the person's other devices
// and at their next sign-in. Reset deletes the server copy as well, on every device; when
// the engine's socket is not connected it only queues its delete, so the page deletes
// over HTTP too while it holds the token.
import { type ClearResult, ServerUnreachableError } from '@hyvve/client';
import { deleteServerCopy } from './server-copy.js';

/** What became of the server's copy on a reset, by whichever way reached the server. */
export type ResetOutcome =
  | { kind: 'deleted' | 'nothing-stored' }
  /** Neither the socket nor HTTP reached the server: the copy expires with its TTL. */
  | { kind: 'unreachable' }
  /** The server refused the delete or did not confirm it. */
  | { kind: 'failed'; error: unknown };

/** Clears this browser's copies; never touches the server copy, never rejects. */
export async function signOutLocally(clear: () => Promise<ClearResult>): Promise<void> {
  const result = await clear();
  console.info('[sign-out] this browser’s copies cleared; the server copy is', result.server);
}

async function deleteOverHttp(token: string): Promise<ResetOutcome> {
  try {
    await deleteServerCopy(token);
    return { kind: 'deleted' };
  } catch (error) {
    console.error('[reset] the HTTP delete of the server copy failed too', error);
    return error instanceof ServerUnreachableError
      ? { kind: 'unreachable' }
      : { kind: 'failed', error };
  }
}

/**
 * Deletes the dashboard everywhere (`reset` is the engine's `resetDashboard`): this
 * browser's copies and the server copy, which every other device then drops too. Never
 * rejects: every failure is reported in the outcome.
 */
export async function resetEverywhere(
  reset: () => Promise<ClearResult>,
  token: string,
): Promise<ResetOutcome> {
  let result: ClearResult;
  try {
    result = await reset();
  } catch (error) {
    if (error instanceof ServerUnreachableError) {
      console.warn('[reset] the socket closed before the delete was answered; using HTTP', error);
      return deleteOverHttp(token);
    }
    console.error('[reset] the server did not delete its copy of the dashboard', error);
    return { kind: 'failed', error };
  }
  if (result.server === 'deleted' || result.server === 'nothing-stored') {
    return { kind: result.server };
  }
  console.warn('[reset] the socket is not connected; deleting the server copy over HTTP');
  return deleteOverHttp(token);
}
