// What the sign-in page tells a person who just signed out: the dashboard is always gone
// from this browser; what became of the server's copy is what the persistence engine
// reports from its delete.
import { type ClearResult, ServerRejectedError } from '@hyvve/client';

const SIGNED_OUT = 'You are signed out. Your dashboard was removed from this browser';
const EXPIRES = 'it expires within 24 hours';

export function signOutNotice(result: ClearResult): string {
  switch (result.server) {
    case 'deleted':
      return `${SIGNED_OUT} and from the server.`;
    case 'nothing-stored':
      return `${SIGNED_OUT}; the server held no copy.`;
    // Signing out stops the engine, so a delete waiting for the socket is not sent.
    case 'offline-queued':
      return `${SIGNED_OUT}. The server could not be reached to delete its copy; ${EXPIRES}.`;
    case 'disabled':
      return `${SIGNED_OUT}.`;
  }
}

/** The engine's delete was refused or not answered: the server may still hold a copy. */
export function signOutFailureNotice(error: unknown): string {
  const reason =
    error instanceof ServerRejectedError
      ? `the server refused to delete its copy (${error.status} ${error.error})`
      : 'the server did not confirm that it deleted its copy';
  return `${SIGNED_OUT}, but ${reason}; ${EXPIRES}.`;
}
