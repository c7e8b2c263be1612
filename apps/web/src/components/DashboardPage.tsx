// The signed-in dashboard: starts the persistence engine (localStorage, other tabs,
// the server over a WebSocket on this origin) and lays out the widgets.

import { useAlerts, useDashboardState, useStatePersistence } from '@hyvve/client';
import { useCallback, useMemo, useRef, useState } from 'react';
import { findProject } from '../demo-data.js';
import { requestDevToken } from '../dev-sign-in.js';
import { syncServerUrl } from '../server-endpoint.js';
import { ownerOf, readSession, type Session } from '../session.js';
import { resetEverywhere, signOutLocally } from '../sign-out.js';
import { resetNotice, SIGNED_OUT_NOTICE } from '../sign-out-notice.js';
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
  /** Called once this tab's and the other tabs' copies are cleared, with what to tell the person. */
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
  // Whose dashboard this is: the engine loads at once (also offline) and discards a copy
  // another person left in this browser.
  const owner = useMemo(
    () => ({ workspaceId: session.workspaceId, userId: session.userId }),
    [session.workspaceId, session.userId],
  );
  const { isInitialized, syncStatus, clearPersistedState, resetDashboard } = useStatePersistence({
    server,
    owner,
  });
  const [signingOut, setSigningOut] = useState(false);
  const [resetting, setResetting] = useState(false);
  const [notice, setNotice] = useState<string | null>(null);
  const activeProject = useDashboardState((s) => s.activeProject);
  const openAlerts = useAlerts().filter((a) => !a.dismissed).length;

  const signOut = useCallback(async () => {
    setSigningOut(true);
    // This browser's copies only: the dashboard stays on the server for the other devices.
    await signOutLocally(clearPersistedState);
    onSignedOut(SIGNED_OUT_NOTICE);
  }, [clearPersistedState, onSignedOut]);

  const reset = useCallback(async () => {
    const confirmed = window.confirm(
      'Reset your dashboard everywhere? This deletes it from the server, so it is emptied ' +
        'on all your devices and tabs. It cannot be undone.',
    );
    if (!confirmed) return;
    setResetting(true);
    setNotice(resetNotice(await resetEverywhere(resetDashboard, session.token)));
    setResetting(false);
  }, [resetDashboard, session.token]);

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
            data-testid="reset-dashboard"
            title="Deletes this dashboard from the server and all your devices"
            onClick={() => void reset()}
            disabled={resetting || signingOut}
          >
            {resetting ? 'Resetting…' : 'Reset dashboard everywhere'}
          </button>
          <button
            type="button"
            className="button button-ghost"
            data-testid="signout"
            title="Removes the dashboard from this browser only; your other devices keep it"
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
        {notice && (
          <p className="form-notice" role="status" data-testid="dashboard-notice">
            {notice}
          </p>
        )}
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
