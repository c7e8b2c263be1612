// Signed out: the demo sign-in. Signed in: the dashboard. The session is shared by
// every tab of this browser, so signing in or out anywhere applies everywhere.
import { useDashboardState } from '@hyvve/client';
import { useCallback, useEffect, useState } from 'react';
import { DashboardPage } from './components/DashboardPage.js';
import { SignInPage } from './components/SignInPage.js';
import {
  clearSession,
  readSession,
  type Session,
  subscribeToSessionChanges,
  writeSession,
} from './session.js';

export function App() {
  const [session, setSession] = useState<Session | null>(() => readSession());
  const [notice, setNotice] = useState<string | null>(null);

  useEffect(() => subscribeToSessionChanges(setSession), []);

  useEffect(() => {
    // Runs after the dashboard (and its persistence engine) unmounted, so emptying the
    // in-memory store is not saved anywhere and the next person starts from scratch.
    if (session === null) useDashboardState.getState().reset();
  }, [session]);

  const signIn = useCallback((next: Session) => {
    // Another person's dashboard left in this browser is discarded by the engine, which
    // knows whose dashboard it holds (DashboardPage passes the session's owner).
    writeSession(next);
    setNotice(null);
    setSession(next);
  }, []);

  const signOut = useCallback((signOutNotice: string | null) => {
    clearSession();
    setNotice(signOutNotice);
    setSession(null);
  }, []);

  const sessionRejected = useCallback(() => {
    // Keep the local copy: the same person signing in again gets it back (another person
    // signing in never sees it: the engine discards a copy of another owner).
    clearSession();
    setNotice('Your session has expired. Sign in again to keep syncing.');
    setSession(null);
  }, []);

  return session ? (
    <DashboardPage
      key={`${session.workspaceId}/${session.userId}`}
      session={session}
      onSignedOut={signOut}
      onSessionRejected={sessionRejected}
    />
  ) : (
    <SignInPage onSignedIn={signIn} notice={notice} />
  );
}
