import { useActivity } from '@hyvve/client';
import { formatClockTime, formatRelativeTime } from '../relative-time.js';
import { useNow } from '../use-now.js';
import { EmptyState, WidgetCard } from './WidgetCard.js';

/** How many entries the feed shows; the rest stay in the state. */
const VISIBLE_ENTRIES = 12;

function initials(name: string): string {
  const parts = name.split(/[\s._-]+/).filter(Boolean);
  const letters =
    parts.length > 1 ? `${parts[0]?.[0] ?? ''}${parts[1]?.[0] ?? ''}` : name.slice(0, 2);
  return letters.toUpperCase();
}

/** A stable hue per person, so the same avatar colour follows them around. */
function hue(name: string): number {
  let h = 0;
  for (let i = 0; i < name.length; i++) h = (h * 31 + name.charCodeAt(i)) % 360;
  return h;
}

export function ActivityWidget() {
  const widget = useActivity();
  const now = useNow();
  const entries = widget?.activities ?? [];
  return (
    <WidgetCard
      testId="widget-activity"
      title="Activity"
      subtitle={entries.length > 0 ? `${entries.length} recent` : undefined}
      className="span-7"
    >
      {entries.length === 0 ? (
        <EmptyState
          title="No activity yet"
          hint="Log an activity or run an agent to fill the feed."
        />
      ) : (
        <ol className="feed">
          {entries.slice(0, VISIBLE_ENTRIES).map((entry) => (
            <li key={entry.id} className="feed-item" data-testid="activity-item">
              <span
                className="avatar"
                style={{
                  backgroundColor: `hsl(${hue(entry.user)} 60% 92%)`,
                  color: `hsl(${hue(entry.user)} 55% 32%)`,
                }}
                aria-hidden="true"
              >
                {initials(entry.user)}
              </span>
              <p className="feed-text">
                <strong>{entry.user}</strong> {entry.action}
                {entry.target && (
                  <>
                    {' '}
                    <strong>{entry.target}</strong>
                  </>
                )}
              </p>
              <time
                className="feed-time"
                dateTime={new Date(entry.timestamp).toISOString()}
                title={formatClockTime(entry.timestamp)}
              >
                {formatRelativeTime(entry.timestamp, now)}
              </time>
            </li>
          ))}
        </ol>
      )}
    </WidgetCard>
  );
}
