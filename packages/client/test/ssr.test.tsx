// Runs in plain Node: no window, no localStorage, like a server render.
import { renderToString } from 'react-dom/server';
import { describe, expect, it } from 'vitest';
import {
  clearPersistedState,
  hasPersistedState,
  useAlerts,
  useStatePersistence,
} from './support/client.js';

function Dashboard() {
  const { isInitialized, syncStatus } = useStatePersistence({
    server: { url: 'http://127.0.0.1:1', getToken: () => 't' },
  });
  const alerts = useAlerts();
  return (
    <p>
      {String(isInitialized)} {syncStatus} {alerts.length}
    </p>
  );
}

describe('server-side rendering', () => {
  it('renders without touching browser APIs', () => {
    expect(typeof window).toBe('undefined');
    expect(renderToString(<Dashboard />)).toBe(
      '<p>false<!-- --> <!-- -->local-only<!-- --> <!-- -->0</p>',
    );
  });

  it('answers the module helpers safely', async () => {
    expect(hasPersistedState()).toBe(false);
    await expect(clearPersistedState()).resolves.toEqual({ local: true, server: 'disabled' });
  });
});
