// Last change as relative time (ticking) and the sync status as a coloured dot with
// its word; `data-status` carries the engine's raw `syncStatus` for tests and tools.
// The engine changes it by itself (socket drops, the server saying its store is down or
// back), so the indicator tells the truth without the user changing anything.
import { useDashboardState } from '@hyvve/client';
import { formatClockTime, formatRelativeTime } from '../relative-time.js';
import { useNow } from '../use-now.js';

export type SyncStatus = 'local-only' | 'connecting' | 'synced' | 'offline' | 'error';

const LABEL: Record<SyncStatus, string> = {
  'local-only': 'Local only',
  connecting: 'Connecting',
  synced: 'Synced',
  offline: 'Offline',
  error: 'Sync error',
};

const HINT: Record<SyncStatus, string> = {
  'local-only': 'Saved in this browser only.',
  connecting: 'Connecting to the server…',
  synced: 'Saved on the server and live on every device.',
  offline:
    'Server unreachable or unable to store right now: changes are kept here and sent when it is back.',
  error: 'The server refused the last change: it is kept here and retried.',
};

export function RealTimeIndicator({ syncStatus }: { syncStatus: SyncStatus }) {
  const timestamp = useDashboardState((s) => s.timestamp);
  const now = useNow();
  return (
    <div className="realtime" aria-live="polite">
      <span
        className={`sync sync-${syncStatus}`}
        data-testid="sync-status"
        data-status={syncStatus}
        title={HINT[syncStatus]}
      >
        <span className="sync-dot" aria-hidden="true" />
        {LABEL[syncStatus]}
      </span>
      <span className="realtime-sep" aria-hidden="true">
        ·
      </span>
      <time
        className="last-updated"
        data-testid="last-updated"
        dateTime={new Date(timestamp).toISOString()}
        title={formatClockTime(timestamp)}
      >
        Updated {formatRelativeTime(timestamp, now)}
      </time>
    </div>
  );
}
