// The controls a person uses to change the dashboard and watch it persist and sync.
import { useDashboardState } from '@hyvve/client';
import {
  activityFor,
  alertFor,
  DEMO_AGENT_FAILURE,
  DEMO_AGENT_ID,
  findProject,
  metricsFor,
  nudgeMetric,
  PROJECTS,
  projectStatusFor,
} from '../demo-data.js';

const NO_PROJECT = '';

export function ControlsBar({ userId }: { userId: string }) {
  const activeProject = useDashboardState((s) => s.activeProject);
  const isLoading = useDashboardState((s) => s.loading.isLoading);
  const hasError = useDashboardState((s) => s.errors[DEMO_AGENT_ID] !== undefined);

  const selectProject = (projectId: string): void => {
    const store = useDashboardState.getState();
    const project = findProject(projectId);
    const now = Date.now();
    store.setActiveProject(project ? project.id : null);
    store.setProjectStatus(project ? projectStatusFor(project, now) : null);
    if (project) store.setMetrics(metricsFor(project, now));
  };

  const addAlert = (): void => {
    const store = useDashboardState.getState();
    store.addAlert(alertFor(store.widgets.alerts.length, Date.now()));
  };

  const addActivity = (): void => {
    const store = useDashboardState.getState();
    const count = store.widgets.activity?.activities.length ?? 0;
    store.addActivity(activityFor(userId, count, store.activeProject, Date.now()));
  };

  const updateMetric = (): void => {
    const store = useDashboardState.getState();
    const now = Date.now();
    const project = findProject(store.activeProject) ?? PROJECTS[0];
    const current = store.widgets.metrics ?? (project ? metricsFor(project, now) : null);
    if (!current) return;
    store.setMetrics(nudgeMetric(current, Math.floor(now / 1000), now));
  };

  const toggleLoading = (): void => {
    const store = useDashboardState.getState();
    if (store.loading.isLoading) store.setLoading(false);
    else store.setLoading(true, [DEMO_AGENT_ID]);
  };

  const toggleError = (): void => {
    const store = useDashboardState.getState();
    store.setError(
      DEMO_AGENT_ID,
      store.errors[DEMO_AGENT_ID] === undefined ? DEMO_AGENT_FAILURE : null,
    );
  };

  return (
    <div className="controls" role="toolbar" aria-label="Dashboard controls">
      <label className="field-inline">
        <span className="field-inline-label">Project</span>
        <select
          data-testid="project-select"
          value={activeProject ?? NO_PROJECT}
          onChange={(event) => selectProject(event.target.value)}
        >
          <option value={NO_PROJECT}>No project</option>
          {PROJECTS.map((p) => (
            <option key={p.id} value={p.id}>
              {p.name.split(':')[0]}
            </option>
          ))}
        </select>
      </label>
      <div className="button-group">
        <button type="button" className="button" data-testid="add-alert" onClick={addAlert}>
          Add alert
        </button>
        <button type="button" className="button" data-testid="add-activity" onClick={addActivity}>
          Log activity
        </button>
        <button type="button" className="button" data-testid="update-metric" onClick={updateMetric}>
          Update metric
        </button>
      </div>
      <fieldset className="button-group" aria-label="Simulate an agent">
        <button
          type="button"
          className={`button button-ghost ${isLoading ? 'is-on' : ''}`}
          data-testid="simulate-loading"
          aria-pressed={isLoading}
          onClick={toggleLoading}
        >
          {isLoading ? 'Stop agent' : 'Simulate agent'}
        </button>
        <button
          type="button"
          className={`button button-ghost ${hasError ? 'is-on' : ''}`}
          data-testid="simulate-error"
          aria-pressed={hasError}
          onClick={toggleError}
        >
          {hasError ? 'Clear failure' : 'Simulate failure'}
        </button>
      </fieldset>
    </div>
  );
}
