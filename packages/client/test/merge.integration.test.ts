// No edit lost (issue 12): devices that changed different things while apart end with
// both changes, through two real server instances sharing a real Redis.
import { jsonEqual } from '@hyvve/schema';
import { describe, expect, it } from 'vitest';
import { MessageGate, waitUntil } from './support/fakes.js';
import { type RealDevice, setUpRealServer } from './support/real-server.js';

const real = setUpRealServer({
  secret: 'client-merge-secret',
  workspaceId: 'ws-merge',
  userPrefix: 'merge',
});

type Device = RealDevice;

const newUser = real.newUser;

function device(userId: string, url: string, gate?: MessageGate): Device {
  return real.device(userId, {
    storageKey: 'merge',
    url,
    ...(gate ? { wrapSocket: (socket) => gate.wrap(socket) } : {}),
  });
}

const isSynced = (d: Device) => () => d.engine.getSnapshot().syncStatus === 'synced';

function alertIds(d: Device): string[] {
  return d.store
    .getState()
    .widgets.alerts.map((alert) => `${alert.id}${alert.dismissed ? ':dismissed' : ''}`)
    .sort();
}

function activityIds(d: Device): string[] {
  return (d.store.getState().widgets.activity?.activities ?? []).map((entry) => entry.id).sort();
}

async function serverState(userId: string): Promise<unknown> {
  const response = await real.fetchState(userId);
  return response.status === 200 ? ((await response.json()) as { state: unknown }).state : null;
}

/** Polls the stored state until `check` holds (bounded). */
async function waitForServer(userId: string, check: (state: unknown) => boolean): Promise<void> {
  const deadline = Date.now() + 10_000;
  while (!check(await serverState(userId))) {
    if (Date.now() > deadline) throw new Error('timed out waiting for the server copy');
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}

const alert = (id: string) => ({
  id,
  type: 'warning' as const,
  title: id,
  message: `alert ${id}`,
  timestamp: Date.now(),
});

describe('merging devices through the server', () => {
  it("keeps B's offline activity and A's dismissal when B's server comes back", async () => {
    const user = newUser();
    const serverB = await real.startInstance();
    const port = serverB.port;
    const a = device(user, real.server.url);
    const b = device(user, serverB.url);
    await waitUntil(isSynced(a), 10_000, 'a synced');
    await waitUntil(isSynced(b), 10_000, 'b synced');
    a.store.getState().addAlert(alert('x1'));
    a.store.getState().addAlert(alert('x2'));
    await waitUntil(() => alertIds(b).length === 2, 10_000, 'b to get the alerts');

    // B's server goes away: B keeps working locally and adds activity.
    await serverB.close();
    await waitUntil(() => !isSynced(b)(), 10_000, 'b to notice its server is gone');
    for (const id of ['b-1', 'b-2']) {
      b.store
        .getState()
        .addActivity({ id, user: 'bea', action: 'commented on', timestamp: Date.now() });
    }
    // Meanwhile A dismisses an alert, and the server stores it.
    a.store.getState().dismissAlert('x1');
    await waitForServer(user, (state) => JSON.stringify(state).includes('"dismissed":true'));

    await real.startInstance(port); // B's server comes back on its port
    const both = (d: Device) => () =>
      alertIds(d).join() === 'x1:dismissed,x2' && activityIds(d).join() === 'b-1,b-2';
    await waitUntil(both(b), 20_000, 'b to hold the dismissal and its activity');
    await waitUntil(both(a), 20_000, 'a to hold its dismissal and b’s activity');
    await waitUntil(isSynced(b), 10_000, 'b synced again');
    const stored = (await serverState(user)) as {
      widgets: { activity: { activities: unknown[] } };
    };
    expect(stored.widgets.activity.activities).toHaveLength(2);
    expect(a.errors).toEqual([]);
  }, 60_000);

  it('converges devices making concurrent edits to one state holding every edit', async () => {
    const user = newUser();
    const devices = [
      device(user, real.server.url),
      device(user, real.server.url),
      device(user, real.server.url),
    ];
    for (const d of devices) await waitUntil(isSynced(d), 10_000, 'device synced');
    devices[0]?.store.getState().addAlert(alert('shared'));
    await waitUntil(
      () => devices.every((d) => alertIds(d).includes('shared')),
      10_000,
      'every device to get the shared alert',
    );
    // Every device edits at once, each something of its own: nothing conflicts.
    devices.forEach((d, i) => {
      for (let n = 0; n < 3; n++) d.store.getState().addAlert(alert(`d${i}-${n}`));
      d.store
        .getState()
        .addActivity({ id: `act-${i}`, user: `u${i}`, action: 'edited', timestamp: Date.now() });
    });
    devices[1]?.store.getState().dismissAlert('shared');
    const expected = [
      'd0-0',
      'd0-1',
      'd0-2',
      'd1-0',
      'd1-1',
      'd1-2',
      'd2-0',
      'd2-1',
      'd2-2',
      'shared:dismissed',
    ].join();
    for (const d of devices) {
      await waitUntil(
        () => alertIds(d).join() === expected && activityIds(d).join() === 'act-0,act-1,act-2',
        20_000,
        'every device to hold every edit',
      );
    }
    const widgets = () => devices.map((d) => d.store.getState().widgets);
    await waitUntil(
      () =>
        devices.every((d) => isSynced(d)()) && widgets().every((w) => jsonEqual(w, widgets()[0])),
      20_000,
      'every device synced on one state',
    );
    const stored = (await serverState(user)) as { widgets: unknown };
    expect(stored.widgets).toEqual(widgets()[0]);
  }, 60_000);

  it("keeps both devices' first edits on a server that never held a state", async () => {
    // The first save after connecting to an empty server used to carry no base revision:
    // stored unconditionally, the newer one replaced the other device's first save.
    const user = newUser();
    const gate = new MessageGate();
    const a = device(user, real.server.url);
    const b = device(user, real.server.url, gate);
    await waitUntil(isSynced(a), 10_000, 'a synced');
    await waitUntil(isSynced(b), 10_000, 'b synced');
    gate.hold('state');
    gate.hold('patch');
    a.store.getState().addAlert(alert('from-a'));
    await waitForServer(user, (state) => JSON.stringify(state).includes('from-a'));
    // B has not heard of A's save: its own first edit is based on the empty server.
    b.store.getState().addAlert(alert('from-b'));
    await waitForServer(user, (state) => JSON.stringify(state).includes('from-b'));
    gate.release();
    const both = (d: Device) => () => alertIds(d).join() === 'from-a,from-b';
    await waitUntil(both(a), 10_000, 'a to hold both alerts');
    await waitUntil(both(b), 10_000, 'b to hold both alerts');
    expect(JSON.stringify(await serverState(user))).toContain('from-a');
    expect(a.errors).toEqual([]);
    expect(b.errors).toEqual([]);
  }, 30_000);
});
