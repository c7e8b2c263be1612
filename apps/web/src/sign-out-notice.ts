// What the page tells a person after a sign-out or a reset, worded so the two are not
// confused: a sign-out removes the dashboard from this browser only; a reset deletes it
// from the server and so from every device.
import { ServerRejectedError } from '@hyvve/client';
import type { ResetOutcome } from './sign-out.js';

export const SIGNED_OUT_NOTICE =
  'You are signed out. Your dashboard was removed from this browser; it stays on your ' +
  'other devices and comes back when you sign in again.';

const EXPIRES = 'it expires 24 hours after its last change';

export function resetNotice(outcome: ResetOutcome): string {
  switch (outcome.kind) {
    case 'deleted':
      return 'Dashboard reset: it was deleted from the server and from every device.';
    case 'nothing-stored':
      return 'Dashboard reset: this browser was cleared; the server held no copy.';
    case 'unreachable':
      return `This browser was cleared, but the server could not be reached to delete its copy; ${EXPIRES}.`;
    case 'failed': {
      const { error } = outcome;
      const reason =
        error instanceof ServerRejectedError
          ? `the server refused to delete its copy (${error.status} ${error.error})`
          : 'the server did not confirm that it deleted its copy';
      return `This browser was cleared, but ${reason}; ${EXPIRES}.`;
    }
  }
}
