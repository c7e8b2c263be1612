// Transient agent state: a working agent and failed agents. Never persisted, so a
// reload always starts without these banners.
import { useDashboardState, useErrors } from '@hyvve/client';

export function AgentStatus() {
  const loading = useDashboardState((s) => s.loading);
  const errors = useErrors();
  const clearErrors = useDashboardState((s) => s.clearErrors);
  const failed = Object.entries(errors);
  if (!loading.isLoading && failed.length === 0) return null;
  return (
    <div className="agent-status">
      {loading.isLoading && (
        <div className="banner banner-info" data-testid="agent-loading" role="status">
          <span className="spinner" aria-hidden="true" />
          <span>
            <strong>{loading.loadingAgents.join(', ') || 'An agent'}</strong> is updating the
            dashboard…
          </span>
        </div>
      )}
      {failed.length > 0 && (
        <div className="banner banner-error" data-testid="agent-error" role="alert">
          <ul>
            {failed.map(([agentId, message]) => (
              <li key={agentId}>
                <strong>{agentId}</strong> failed: {message}
              </li>
            ))}
          </ul>
          <button type="button" className="button button-small" onClick={clearErrors}>
            Dismiss
          </button>
        </div>
      )}
    </div>
  );
}
