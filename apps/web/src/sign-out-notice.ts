// What the sign-in page tells a person who just signed out: the dashboard is always gone
// from this browser; what became of the server's copy is what the engine's delete (or,
// with its socket down, the page's HTTP delete) reported.
import { ServerRejectedError } from '@hyvve/client';
import type { ServerCopyOutcome } from './sign-out.js';

const SIGNED_OUT = 'You are signed out. Your dashboard was removed from this browser';
const EXPIRES = 'it expires within 24 hours';

export function signOutNotice(outcome: ServerCopyOutcome): string {
  switch (outcome.kind) {
    case 'deleted':
      return `${SIGNED_OUT} and from the server.`;
    case 'nothing-stored':
      return `${SIGNED_OUT}; the server held no copy.`;
    case 'disabled':
      return `${SIGNED_OUT}.`;
    case 'unreachable':
      return `${SIGNED_OUT}. The server could not be reached to delete its copy; ${EXPIRES}.`;
    case 'failed': {
      const { error } = outcome;
      const reason =
        error instanceof ServerRejectedError
          ? `the server refused to delete its copy (${error.status} ${error.error})`
          : 'the server did not confirm that it deleted its copy';
      return `${SIGNED_OUT}, but ${reason}; ${EXPIRES}.`;
    }
  }
}
