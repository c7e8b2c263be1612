// No edit lost (issue 12), as a property: 2–4 simulated devices (real client engines, each
// with its own storage) make random concurrent edits through two real server instances
// sharing a real Redis, while some of them go offline (socket cut, or their server
// instance stopped) and come back. Once everything is back and quiet, every device and
// the server hold one state, and it contains every edit no other device overrode:
// - alerts and activities are added with unique ids: all present unless someone removed them;
// - a dismissal is kept (nothing un-dismisses), a removal is kept (ids are never re-added);
// - a metric (by id) or the active project changed by one device only ends at that device's
//   last value; changed by several, at one of the values they set.
// Bounded for `npm test`, with the run's seed (printed once; FC_SEED=<seed> replays a
// failure); FUZZ_RUNS=<n> runs more.
import type { RunningServer } from '@hyvve/server';
import fc from 'fast-check';
import { beforeAll, describe, expect, it } from 'vitest';
import { WebSocket } from 'ws';
import { runSeed } from '../../../test-support/run-seed.js';
import {
  createDashboardStore,
  createStatePersistence,
  type DashboardStoreApi,
  type PersistenceError,
  ServerRejectedError,
  ServerUnreachableError,
  type SocketLike,
  type StatePersistence,
} from './support/client.js';
import { SpyStorage, waitUntil } from './support/fakes.js';
import { setUpRealServer } from './support/real-server.js';

const RUNS = Number(process.env.FUZZ_RUNS ?? 100);
/** Nowhere to connect to: a device "offline" dials this and fails at once. */
const DEAD_URL = 'ws://127.0.0.1:9/';

const real = setUpRealServer({
  secret: 'client-convergence-secret',
  workspaceId: 'ws-converge',
  userPrefix: 'converge',
});
/** Instance B (index 1) is stopped and restarted on its port by the scenarios. */
const instances: { url: string; port: number; server: RunningServer | null }[] = [];

beforeAll(async () => {
  for (const server of [real.server, await real.startInstance()]) {
    instances.push({ url: server.url, port: server.port, server });
  }
});

interface Device {
  name: string;
  instance: number;
  store: DashboardStoreApi;
  engine: StatePersistence;
  errors: PersistenceError[];
  offline: boolean;
  socket: SocketLike | null;
  /** Saves sent on the current socket and not answered yet: id → the state they carry. */
  unanswered: Map<string, SavedState>;
  /** Alerts carried by a save whose answer was lost with its socket (see `Expectations`). */
  lostAnswers: Set<string>;
  /** Metric values and active projects carried by such a save. */
  lostMetrics: Map<string, Set<number>>;
  lostProjects: Set<unknown>;
}

interface SavedState {
  activeProject?: unknown;
  widgets: {
    alerts: { id: string }[];
    metrics?: { metrics: { id: string; value: number }[] } | null;
  };
}

/**
 * The real `ws` socket, watched: which saves are unanswered when it closes. A save whose
 * answer is lost may or may not have been stored, and the client cannot tell which.
 */
function watchedSocket(device: Device, url: string): SocketLike {
  const ws = new WebSocket(url);
  device.unanswered = new Map();
  const unanswered = device.unanswered;
  const send = ws.send.bind(ws);
  ws.send = ((data: string) => {
    const message = JSON.parse(data) as { type: string; id?: string; state?: SavedState };
    if (message.type === 'save' && message.id && message.state) {
      unanswered.set(message.id, message.state);
    }
    send(data);
  }) as typeof ws.send;
  ws.addEventListener('message', (event) => {
    const message = JSON.parse(String(event.data)) as { type: string; id?: string };
    if ((message.type === 'saved' || message.type === 'error') && message.id) {
      unanswered.delete(message.id);
    }
  });
  ws.addEventListener('close', () => {
    for (const state of unanswered.values()) {
      for (const alert of state.widgets.alerts) device.lostAnswers.add(alert.id);
      for (const metric of state.widgets.metrics?.metrics ?? []) {
        const values = device.lostMetrics.get(metric.id) ?? new Set<number>();
        values.add(metric.value);
        device.lostMetrics.set(metric.id, values);
      }
      device.lostProjects.add(state.activeProject);
    }
    unanswered.clear();
  });
  return ws as unknown as SocketLike;
}

/** What the engines logged in the current run, shown when it fails. */
const trace: string[] = [];

function tracer(name: string) {
  const record = (event: string, context?: Record<string, unknown>): void => {
    if (!event.startsWith('storage.')) trace.push(`${name} ${event} ${JSON.stringify(context)}`);
  };
  return { debug: record, warn: record, error: record };
}

function createDevice(userId: string, name: string, instance: number): Device {
  const store = createDashboardStore();
  const errors: PersistenceError[] = [];
  const device: Device = {
    name,
    instance,
    store,
    errors,
    offline: false,
    socket: null,
    unanswered: new Map(),
    lostAnswers: new Set(),
    lostMetrics: new Map(),
    lostProjects: new Set(),
    engine: createStatePersistence(store, {
      storageKey: `converge-${name}`,
      storage: new SpyStorage(),
      createChannel: null,
      lifecycle: {},
      debounceMs: 20,
      onError: (error) => errors.push(error),
      debug: tracer(name),
      server: {
        url: instances[instance]?.url ?? DEAD_URL,
        getToken: () => real.token(userId),
        createWebSocket: (url) => {
          device.socket = watchedSocket(device, device.offline ? DEAD_URL : url);
          return device.socket;
        },
        reconnect: { initialDelayMs: 20, maxDelayMs: 200 },
        saveThrottleMs: 20,
      },
    }),
  };
  device.engine.start();
  return device;
}

type Edit =
  | { kind: 'add-alert' }
  | { kind: 'dismiss-alert'; pick: number }
  | { kind: 'remove-alert'; pick: number }
  | { kind: 'add-activity' }
  | { kind: 'set-metric'; metric: number }
  | { kind: 'set-project'; project: number };

type Step =
  | { kind: 'edit'; device: number; edit: Edit }
  | { kind: 'offline' | 'online'; device: number }
  | { kind: 'stop-instance' | 'start-instance' }
  | { kind: 'pause'; ms: number };

const editArb: fc.Arbitrary<Edit> = fc.oneof(
  { weight: 4, arbitrary: fc.constant({ kind: 'add-alert' as const }) },
  { weight: 3, arbitrary: fc.nat(50).map((pick) => ({ kind: 'dismiss-alert' as const, pick })) },
  { weight: 2, arbitrary: fc.nat(50).map((pick) => ({ kind: 'remove-alert' as const, pick })) },
  { weight: 3, arbitrary: fc.constant({ kind: 'add-activity' as const }) },
  { weight: 2, arbitrary: fc.nat(2).map((metric) => ({ kind: 'set-metric' as const, metric })) },
  { weight: 1, arbitrary: fc.nat(2).map((project) => ({ kind: 'set-project' as const, project })) },
);

const stepArb = (devices: number): fc.Arbitrary<Step> =>
  fc.oneof(
    {
      weight: 12,
      arbitrary: fc.record({
        kind: fc.constant('edit' as const),
        device: fc.nat(devices - 1),
        edit: editArb,
      }),
    },
    {
      weight: 2,
      arbitrary: fc.record({
        kind: fc.constantFrom('offline' as const, 'online' as const),
        device: fc.nat(devices - 1),
      }),
    },
    { weight: 1, arbitrary: fc.constantFrom({ kind: 'stop-instance' as const }) },
    { weight: 1, arbitrary: fc.constantFrom({ kind: 'start-instance' as const }) },
    // Lets saves, broadcasts and reconnects interleave with the edits that follow.
    { weight: 3, arbitrary: fc.nat(40).map((ms) => ({ kind: 'pause' as const, ms })) },
  );

const scenarioArb = fc.integer({ min: 2, max: 4 }).chain((devices) =>
  fc.record({
    instances: fc.array(fc.nat(1), { minLength: devices, maxLength: devices }),
    steps: fc.array(stepArb(devices), { minLength: 5, maxLength: 30 }),
  }),
);

/** What the edits should leave behind, recorded as they are made. */
class Expectations {
  readonly added = new Set<string>();
  readonly removed = new Set<string>();
  readonly dismissed = new Set<string>();
  readonly activities = new Set<string>();
  /** Metric id → device → that device's last value. */
  readonly metrics = new Map<string, Map<string, number>>();
  readonly projects = new Map<string, string>();
}

function applyEdit(device: Device, edit: Edit, counter: number, expected: Expectations): void {
  const state = device.store.getState();
  const id = `${device.name}-${counter}`;
  const now = Date.now();
  // Only what this device can see can be dismissed or removed.
  const visible = state.widgets.alerts;
  switch (edit.kind) {
    case 'add-alert':
      state.addAlert({ id, type: 'info', title: id, message: id, timestamp: now });
      expected.added.add(id);
      return;
    case 'dismiss-alert': {
      const target = visible[edit.pick % Math.max(visible.length, 1)];
      if (!target || target.dismissed) return;
      state.dismissAlert(target.id);
      expected.dismissed.add(target.id);
      trace.push(`${device.name} TEST dismissed ${target.id}`);
      return;
    }
    case 'remove-alert': {
      const target = visible[edit.pick % Math.max(visible.length, 1)];
      if (!target) return;
      device.store.setState((s) => ({
        widgets: { ...s.widgets, alerts: s.widgets.alerts.filter((a) => a.id !== target.id) },
        timestamp: Math.max(Date.now(), s.timestamp + 1),
      }));
      expected.removed.add(target.id);
      trace.push(`${device.name} TEST removed ${target.id}`);
      return;
    }
    case 'add-activity':
      state.addActivity({ id, user: device.name, action: 'edited', timestamp: now });
      expected.activities.add(id);
      return;
    case 'set-metric': {
      const metricId = `m${edit.metric}`;
      const others = (state.widgets.metrics?.metrics ?? []).filter((m) => m.id !== metricId);
      state.setMetrics({
        title: 'Key Metrics',
        metrics: [...others, { id: metricId, label: metricId, value: counter }].sort((a, b) =>
          a.id.localeCompare(b.id),
        ),
        lastUpdated: now,
      });
      const byDevice = expected.metrics.get(metricId) ?? new Map<string, number>();
      byDevice.set(device.name, counter);
      expected.metrics.set(metricId, byDevice);
      return;
    }
    case 'set-project': {
      const project = `p${edit.project}-${id}`;
      state.setActiveProject(project);
      expected.projects.set(device.name, project);
      return;
    }
  }
}

/**
 * The persisted content that must agree everywhere, as JSON with sorted keys (a merge
 * may build an item with its keys in another order).
 */
function content(state: { activeProject: unknown; widgets: unknown }): string {
  return JSON.stringify({ activeProject: state.activeProject, widgets: state.widgets }, sortKeys);
}

function sortKeys(_key: string, value: unknown): unknown {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) return value;
  return Object.fromEntries(Object.entries(value).sort(([a], [b]) => a.localeCompare(b)));
}

async function serverContent(userId: string): Promise<string | null> {
  const response = await real.fetchState(userId, instances[0]?.url);
  if (response.status === 404) return null;
  const body = (await response.json()) as { state: { activeProject: unknown; widgets: unknown } };
  return content(body.state);
}

async function setInstanceB(running: boolean): Promise<void> {
  const b = instances[1];
  if (!b || (b.server !== null) === running) return;
  if (running) b.server = await real.startInstance(b.port);
  else {
    const server = b.server;
    b.server = null;
    await server?.close();
  }
}

async function runScenario(scenario: { instances: number[]; steps: Step[] }): Promise<void> {
  const user = real.newUser();
  const devices = scenario.instances.map((instance, i) => createDevice(user, `d${i}`, instance));
  const expected = new Expectations();
  const log: string[] = [];
  trace.length = 0;
  try {
    for (const d of devices) {
      await waitUntil(() => d.engine.getSnapshot().syncStatus === 'synced', 10_000, `${d.name}`);
    }
    let counter = 0;
    for (const step of scenario.steps) {
      log.push(JSON.stringify(step));
      const device = 'device' in step ? devices[step.device] : undefined;
      if (step.kind === 'edit' && device) {
        counter += 1;
        applyEdit(device, step.edit, counter, expected);
      } else if (step.kind === 'offline' && device) {
        device.offline = true;
        device.socket?.close();
      } else if (step.kind === 'online' && device) {
        device.offline = false;
      } else if (step.kind === 'stop-instance') {
        await setInstanceB(false);
      } else if (step.kind === 'start-instance') {
        await setInstanceB(true);
      } else if (step.kind === 'pause') {
        await new Promise((resolve) => setTimeout(resolve, step.ms));
      }
    }
    // Everything comes back; then wait for quiescence: all synced, holding one state, and
    // the server holding it too. `synced` says the link is up, not that nothing is waiting
    // for its debounced save, so a device can look quiet with its last edit not yet sent;
    // the server's copy agreeing is what says every save has landed.
    for (const d of devices) d.offline = false;
    await setInstanceB(true);
    const empty = content(createDashboardStore().getState());
    const held = (): string | null => {
      const first = content(devices[0]?.store.getState() ?? { activeProject: 0, widgets: 0 });
      const agreed = devices.every(
        (d) =>
          d.engine.getSnapshot().syncStatus === 'synced' && content(d.store.getState()) === first,
      );
      return agreed ? first : null;
    };
    const deadline = Date.now() + 30_000;
    for (;;) {
      const agreed = held();
      // Nothing stored (no edit made a change) is the empty dashboard.
      if (agreed !== null && ((await serverContent(user)) ?? empty) === agreed && held() === agreed)
        break;
      if (Date.now() > deadline) {
        const seen = devices.map(
          (d) => `${d.name}: ${d.engine.getSnapshot().syncStatus} ${content(d.store.getState())}`,
        );
        throw new Error(
          `timed out after 30000 ms waiting for every device and the server on one state\n${seen.join('\n')}\nserver: ${await serverContent(user)}`,
        );
      }
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    const final = devices[0]?.store.getState();
    if (!final) throw new Error('no device');
    trace.push(`final: ${content(final)}`);
    expect((await serverContent(user)) ?? empty).toBe(content(final));

    const alerts = new Map(final.widgets.alerts.map((a) => [a.id, a]));
    // Known limit: an alert in a save whose answer was lost (socket closed first) and that
    // another device removed may come back. The device cannot tell whether that save was
    // stored, so its merge base lacks the alert and it counts as added locally.
    const lostAnswers = new Set(devices.flatMap((d) => [...d.lostAnswers]));
    for (const id of expected.added) {
      if (lostAnswers.has(id) && expected.removed.has(id)) continue;
      expect(alerts.has(id), `alert ${id} ${expected.removed.has(id) ? 'removed' : 'kept'}`).toBe(
        !expected.removed.has(id),
      );
      if (alerts.has(id)) {
        expect(alerts.get(id)?.dismissed, `alert ${id} dismissal`).toBe(expected.dismissed.has(id));
      }
    }
    expect([...alerts.keys()].every((id) => expected.added.has(id))).toBe(true);
    const activities = (final.widgets.activity?.activities ?? []).map((a) => a.id).sort();
    expect(activities).toEqual([...expected.activities].sort());
    // The same limit for a metric or the project: a device whose save's answer was lost
    // meets that save's values again as another device's change, and the newer side wins
    // that conflict, so one of the values such a save carried may stay.
    const metrics = new Map((final.widgets.metrics?.metrics ?? []).map((m) => [m.id, m.value]));
    expect([...metrics.keys()].sort()).toEqual([...expected.metrics.keys()].sort());
    for (const [id, byDevice] of expected.metrics) {
      const allowed = [...byDevice.values()];
      if (byDevice.size === 1) {
        for (const d of devices) allowed.push(...(d.lostMetrics.get(id) ?? []));
      }
      expect(allowed, `metric ${id}`).toContain(metrics.get(id));
    }
    const projects = [...expected.projects.values()];
    if (projects.length === 0) expect(final.activeProject).toBeNull();
    else {
      const allowed: unknown[] = [...projects];
      if (projects.length === 1) for (const d of devices) allowed.push(...d.lostProjects);
      expect(allowed, 'active project').toContain(final.activeProject);
    }
    // Being cut off is reported (ServerUnreachableError), and so is a 503 from an instance
    // shutting down under a request (retried); nothing else may go wrong.
    for (const d of devices) {
      const unexpected = d.errors.filter(
        (e) =>
          !(e instanceof ServerUnreachableError) &&
          !(e instanceof ServerRejectedError && e.status === 503),
      );
      expect(unexpected, `${d.name} errors`).toEqual([]);
    }
  } catch (error) {
    const detail = `steps:\n${log.join('\n')}\nengine events:\n${trace.join('\n')}`;
    throw new Error(`${(error as Error).message}\n${detail}`, { cause: error });
  } finally {
    for (const d of devices) d.engine.stop();
    await setInstanceB(true);
  }
}

describe('devices editing concurrently through two server instances', () => {
  it(
    'converge on one state holding every edit no other device overrode',
    async () => {
      await fc.assert(fc.asyncProperty(scenarioArb, runScenario), {
        numRuns: RUNS,
        seed: runSeed(),
        endOnFailure: true,
      });
    },
    Math.max(120_000, RUNS * 30_000),
  );
});
