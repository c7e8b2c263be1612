import { useAlerts, useDashboardState } from '@hyvve/client';
import type { AlertType } from '@hyvve/schema';
import { formatRelativeTime } from '../relative-time.js';
import { useNow } from '../use-now.js';
import { EmptyState, WidgetCard } from './WidgetCard.js';

const ICON: Record<AlertType, string> = { error: '!', warning: '!', info: 'i', success: '✓' };

export function AlertsWidget() {
  const alerts = useAlerts();
  const dismissAlert = useDashboardState((s) => s.dismissAlert);
  const now = useNow();
  const open = alerts.filter((a) => !a.dismissed);
  const dismissed = alerts.length - open.length;
  return (
    <WidgetCard
      testId="widget-alerts"
      title="Alerts"
      subtitle={dismissed > 0 ? `${dismissed} dismissed` : undefined}
      badge={
        open.length > 0 ? (
          <span className="count-badge" data-testid="alert-count">
            {open.length}
          </span>
        ) : undefined
      }
      className="span-5"
    >
      {open.length === 0 ? (
        <EmptyState title="All clear" hint="No open alerts. New ones from agents show up here." />
      ) : (
        <ul className="alert-list">
          {open.map((alert) => (
            <li
              key={alert.id}
              className={`alert alert-${alert.type}`}
              data-testid="alert-item"
              data-alert-id={alert.id}
            >
              <span className="alert-icon" aria-hidden="true">
                {ICON[alert.type]}
              </span>
              <div className="alert-text">
                <p className="alert-title">{alert.title}</p>
                <p className="alert-message">{alert.message}</p>
                <p className="alert-time">{formatRelativeTime(alert.timestamp, now)}</p>
              </div>
              {alert.dismissable && (
                <button
                  type="button"
                  className="icon-button"
                  data-testid="alert-dismiss"
                  aria-label={`Dismiss ${alert.title}`}
                  title="Dismiss"
                  onClick={() => dismissAlert(alert.id)}
                >
                  ×
                </button>
              )}
            </li>
          ))}
        </ul>
      )}
    </WidgetCard>
  );
}
