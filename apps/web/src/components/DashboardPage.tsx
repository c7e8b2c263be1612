// The signed-in dashboard: starts the persistence engine (localStorage, other tabs,
// the server over a WebSocket on this origin) and lays out the widgets.

import { useAlerts, useDashboardState, useStatePersistence } from '@hyvve/client';
import { useCallback, useMemo, useRef, useState } from 'react';
import { findProject } from '../demo-data.js';
import { requestDevToken } from '../dev-sign-in.js';
import { syncServerUrl } from '../server-endpoint.js';
import { ownerOf, readSession, type Session } from '../session.js';
import { clearForSignOut } from '../sign-out.js';
import { signOutNotice } from '../sign-out-notice.js';
import { sessionTokenSource } from '../token-refresh.js';
import { useSessionCheck } from '../use-session-check.js';
import { ActivityWidget } from './ActivityWidget.js';
import { AgentStatus } from './AgentStatus.js';
import { AlertsWidget } from './AlertsWidget.js';
import { ControlsBar } from './ControlsBar.js';
import { Logo } from './Logo.js';
import { MetricsWidget } from './MetricsWidget.js';
import { ProjectStatusWidget } from './ProjectStatusWidget.js';
import { RealTimeIndicator } from './RealTimeIndicator.js';

interface DashboardPageProps {
  session: Session;
  /**
   * Called once this tab's and the other tabs' copies are cleared, with a notice saying
   * what became of the server's copy (one not deleted expires with its TTL).
   */
  onSignedOut: (notice: string | null) => void;
  /** Called when the server rejects the token (expired or revoked). */
  onSessionRejected: () => void;
}

export function DashboardPage({ session, onSignedOut, onSessionRejected }: DashboardPageProps) {
  useSessionCheck(session, onSessionRejected);
  // The newest session (a refresh, here or in another tab, changes only the token): read
  // through a ref, so a new token is sent on the open socket instead of restarting sync.
  const latest = useRef(session);
  latest.current = session;
  const server = useMemo(
    () => ({
      url: syncServerUrl(window.location),
      getToken: sessionTokenSource({
        current: () => {
          const stored = readSession();
          const mine = latest.current;
          return stored && ownerOf(stored) === ownerOf(mine) ? stored : mine;
        },
        issue: (userId, workspaceId) => requestDevToken(userId, workspaceId),
      }),
    }),
    [],
  );
  const { isInitialized, syncStatus, clearPersistedState } = useStatePersistence({ server });
  const [signingOut, setSigningOut] = useState(false);
  const activeProject = useDashboardState((s) => s.activeProject);
  const openAlerts = useAlerts().filter((a) => !a.dismissed).length;

  const signOut = useCallback(async () => {
    setSigningOut(true);
    // The engine clears this tab, tells the other tabs and deletes the server copy over its
    // socket; with the socket down the page deletes it over HTTP before the token is dropped.
    const outcome = await clearForSignOut(clearPersistedState, session.token);
    onSignedOut(signOutNotice(outcome));
  }, [clearPersistedState, onSignedOut, session.token]);

  const project = findProject(activeProject);
  const heading = project ? project.name.split(':')[0] : 'Overview';

  return (
    <div className="app">
      <header className="topbar">
        <div className="brand">
          <Logo />
          <span className="brand-name">Hyvve</span>
          <span className="brand-divider" aria-hidden="true" />
          <span className="brand-workspace" title="Workspace">
            {session.workspaceId}
          </span>
        </div>
        <RealTimeIndicator syncStatus={syncStatus} />
        <div className="account">
          <span className="user-chip" title={`Signed in as ${session.userId}`}>
            <span className="user-avatar" aria-hidden="true">
              {session.userId.slice(0, 1).toUpperCase()}
            </span>
            <span className="user-name">{session.userId}</span>
          </span>
          <button
            type="button"
            className="button button-ghost"
            data-testid="signout"
            onClick={() => void signOut()}
            disabled={signingOut}
          >
            {signingOut ? 'Signing out…' : 'Sign out'}
          </button>
        </div>
      </header>
      <main className="page" aria-busy={!isInitialized}>
        <div className="page-head">
          <div>
            <h1 className="page-title">{heading}</h1>
            <p className="page-subtitle">
              {openAlerts === 0
                ? 'No open alerts'
                : `${openAlerts} open alert${openAlerts === 1 ? '' : 's'}`}{' '}
              · state survives reloads and syncs to your other tabs and devices
            </p>
          </div>
          <ControlsBar userId={session.userId} />
        </div>
        <AgentStatus />
        <div className="grid">
          <ProjectStatusWidget />
          <MetricsWidget />
          <ActivityWidget />
          <AlertsWidget />
        </div>
      </main>
    </div>
  );
}
