// Asks the server once per sign-in whether the token still holds: an expired or
// revoked token answers 401 and the person is sent back to sign-in, instead of a
// dashboard that silently stops syncing. Any other answer (even 503) keeps them in.
import { STATE_PATH } from '@hyvve/schema';
import { useEffect } from 'react';
import type { Session } from './session.js';

export function useSessionCheck(session: Session, onRejected: () => void): void {
  useEffect(() => {
    const controller = new AbortController();
    // HEAD: the auth answer without downloading the state the engine loads anyway.
    fetch(STATE_PATH, {
      method: 'HEAD',
      headers: { authorization: `Bearer ${session.token}` },
      signal: controller.signal,
    }).then(
      (response) => {
        if (response.status === 401) onRejected();
      },
      (error: unknown) => {
        // Offline or aborted: the engine reports connectivity; the session stays.
        if (!controller.signal.aborted) console.warn('[session] token check failed', error);
      },
    );
    return () => controller.abort();
  }, [session.token, onRejected]);
}
