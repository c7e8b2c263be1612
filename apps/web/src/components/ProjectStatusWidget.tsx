import { useProjectStatus } from '@hyvve/client';
import type { ProjectStatusValue } from '@hyvve/schema';
import { formatRelativeTime } from '../relative-time.js';
import { useNow } from '../use-now.js';
import { EmptyState, WidgetCard } from './WidgetCard.js';

const STATUS_LABEL: Record<ProjectStatusValue, string> = {
  'on-track': 'On track',
  'at-risk': 'At risk',
  behind: 'Behind',
  completed: 'Completed',
};

export function ProjectStatusWidget() {
  const project = useProjectStatus();
  const now = useNow();
  if (!project) {
    return (
      <WidgetCard testId="widget-project-status" title="Project status" className="span-5">
        <EmptyState
          title="No project selected"
          hint="Pick a project above, or start the agent simulator to report progress."
        />
      </WidgetCard>
    );
  }
  const progress = Math.round(project.progress);
  return (
    <WidgetCard
      testId="widget-project-status"
      title="Project status"
      subtitle={`Updated ${formatRelativeTime(project.lastUpdated, now)}`}
      badge={
        <span className={`status-pill status-${project.status}`} data-testid="project-status-value">
          {STATUS_LABEL[project.status]}
        </span>
      }
      className="span-5"
    >
      <p className="project-name" data-testid="project-name">
        {project.name}
      </p>
      {project.summary && <p className="project-summary">{project.summary}</p>}
      <div className="progress-row">
        <div
          className={`progress-track status-${project.status}`}
          role="progressbar"
          aria-valuemin={0}
          aria-valuemax={100}
          aria-valuenow={progress}
          aria-label="Progress"
        >
          <div className="progress-fill" style={{ width: `${progress}%` }} />
        </div>
        <span className="progress-value" data-testid="project-progress">
          {progress}%
        </span>
      </div>
      <dl className="project-facts">
        <div>
          <dt>Tasks done</dt>
          <dd>
            {project.tasksCompleted} / {project.tasksTotal}
          </dd>
        </div>
        <div>
          <dt>Remaining</dt>
          <dd>{Math.max(0, project.tasksTotal - project.tasksCompleted)}</dd>
        </div>
      </dl>
    </WidgetCard>
  );
}
