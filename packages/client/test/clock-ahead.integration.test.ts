// A device whose clock runs an hour ahead (issue 12): the server refuses saves stamped
// more than MAX_CLOCK_SKEW_MS ahead of its clock, so the client stamps what it sends at
// most at the server's time (learned from `ready.serverTime` and save answers) and keeps
// syncing; a refusal anyway is re-stamped with the refusal's `serverTime` and retried
// once; if that fails too, syncStatus is `error` and onError says why.
import { MAX_CLOCK_SKEW_MS } from '@hyvve/schema';
import { describe, expect, it } from 'vitest';
import { createDashboardStore, ServerRejectedError } from './support/client.js';
import { interceptMessages, waitUntil } from './support/fakes.js';
import { type RealDevice, setUpRealServer } from './support/real-server.js';

const HOUR = 3_600_000;
const real = setUpRealServer({
  secret: 'client-clock-secret',
  workspaceId: 'ws-clock',
  userPrefix: 'clock',
});

type Device = RealDevice;

/** Rewrites each incoming message before the client reads it (a server of another kind). */
type Rewrite = (message: Record<string, unknown>) => Record<string, unknown>;

const withoutServerTime: Rewrite = ({ serverTime: _dropped, ...message }) => message;

function device(userId: string, options: { aheadMs?: number; rewrite?: Rewrite } = {}): Device {
  const aheadMs = options.aheadMs ?? 0;
  const rewrite = options.rewrite;
  return real.device(userId, {
    storageKey: 'clock',
    debounceMs: 50,
    store: createDashboardStore({ now: () => Date.now() + aheadMs }),
    ...(rewrite
      ? {
          wrapSocket: (socket) =>
            interceptMessages(socket, (event, deliver) =>
              deliver({ data: JSON.stringify(rewrite(JSON.parse(String(event.data)))) }),
            ),
        }
      : {}),
  });
}

const newUser = real.newUser;
const status = (d: Device) => d.engine.getSnapshot().syncStatus;

async function stored(userId: string): Promise<{ timestamp: number; alerts: string[] } | null> {
  const response = await real.fetchState(userId);
  if (response.status !== 200) return null;
  const { state } = (await response.json()) as {
    state: { timestamp: number; widgets: { alerts: Array<{ id: string; dismissed?: boolean }> } };
  };
  const alerts = state.widgets.alerts.map((a) => `${a.id}${a.dismissed ? ':dismissed' : ''}`);
  return { timestamp: state.timestamp, alerts: alerts.sort() };
}

async function waitForStored(userId: string, alerts: string): Promise<number> {
  const deadline = Date.now() + 10_000;
  for (;;) {
    const copy = await stored(userId);
    if (copy && copy.alerts.join() === alerts) return copy.timestamp;
    if (Date.now() > deadline) throw new Error(`timed out waiting for stored alerts ${alerts}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

const alert = (id: string) => ({
  id,
  type: 'info' as const,
  title: id,
  message: id,
  timestamp: Date.now(),
});
const alertIds = (d: Device): string =>
  d.store
    .getState()
    .widgets.alerts.map((a) => `${a.id}${a.dismissed ? ':dismissed' : ''}`)
    .sort()
    .join();

describe('a device whose clock runs an hour ahead', () => {
  it('keeps syncing, stamping what it sends at server time, and others still win later', async () => {
    const user = newUser();
    const ahead = device(user, { aheadMs: HOUR });
    const honest = device(user);
    await waitUntil(() => status(ahead) === 'synced', 10_000, 'the fast device synced');
    await waitUntil(() => status(honest) === 'synced', 10_000, 'the honest device synced');

    ahead.store.getState().addAlert(alert('fast-1'));
    const timestamp = await waitForStored(user, 'fast-1');
    expect(ahead.store.getState().timestamp).toBeGreaterThan(Date.now() + HOUR / 2);
    expect(timestamp).toBeLessThanOrEqual(Date.now());
    await waitUntil(() => alertIds(honest) === 'fast-1', 10_000, 'the honest device to get it');

    // The honest device's later change is not beaten by the fast clock.
    honest.store.getState().dismissAlert('fast-1');
    await waitUntil(() => alertIds(ahead) === 'fast-1:dismissed', 10_000, 'the dismissal');
    ahead.store.getState().addAlert(alert('fast-2'));
    await waitForStored(user, 'fast-1:dismissed,fast-2');
    await waitUntil(() => alertIds(honest) === 'fast-1:dismissed,fast-2', 10_000, 'honest sees');
    await waitUntil(() => status(ahead) === 'synced', 10_000, 'the fast device synced again');
    expect(ahead.errors).toEqual([]);
    expect(honest.errors).toEqual([]);
  });

  it('without a server time in ready, re-stamps with the refusal’s and saves once more', async () => {
    const user = newUser();
    const ahead = device(user, {
      aheadMs: HOUR,
      rewrite: (message) => (message.type === 'ready' ? withoutServerTime(message) : message),
    });
    await waitUntil(() => status(ahead) === 'synced', 10_000, 'synced');
    ahead.store.getState().addAlert(alert('retried'));
    expect(await waitForStored(user, 'retried')).toBeLessThanOrEqual(Date.now());
    await waitUntil(() => status(ahead) === 'synced', 10_000, 'synced after the retry');
    expect(ahead.errors).toEqual([]);
  });

  it('reports error with the server’s reason when the retry is refused too', async () => {
    const user = newUser();
    const ahead = device(user, { aheadMs: HOUR, rewrite: withoutServerTime });
    await waitUntil(() => status(ahead) === 'synced', 10_000, 'synced');
    ahead.store.getState().addAlert(alert('refused'));
    await waitUntil(() => status(ahead) === 'error', 10_000, 'the error status');
    expect(ahead.errors).toHaveLength(1);
    const [error] = ahead.errors;
    expect(error).toBeInstanceOf(ServerRejectedError);
    expect((error as ServerRejectedError).status).toBe(400);
    expect(error?.message).toMatch(/timestamp.*ahead of the server clock/);
    expect(error?.message).toContain(`at most ${MAX_CLOCK_SKEW_MS} ms`);
    expect(await stored(user)).toBeNull();
  });
});
