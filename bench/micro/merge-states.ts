// Micro-benchmark of the three-way merge (issue 12: < 2 ms for two 100 KB states in Node).
// Not part of `npm run bench` (no server, no baseline): run it alone with
//   npx tsx --conditions=source bench/micro/merge-states.ts
// Base, local and remote are separate parses of ~100 KB states, as a client holds them
// (no shared objects, so every unchanged part is compared in full: the worst case), and
// both sides changed items of every list.
import { performance } from 'node:perf_hooks';
import {
  type DashboardState,
  MAX_ACTIVITIES,
  MAX_ALERTS,
  mergeDashboardStates,
} from '@hyvve/schema';
import { makeState } from '../../test-support/fixtures.js';

const T0 = 1_700_000_000_000;
const WARMUP = 300;
const ROUNDS = 2000;

function build(): { base: DashboardState; local: DashboardState; remote: DashboardState } {
  const base = makeState({
    timestamp: T0,
    alerts: MAX_ALERTS,
    activities: MAX_ACTIVITIES,
    metrics: 680,
  });
  const json = JSON.stringify(base);
  const local: DashboardState = JSON.parse(json);
  const remote: DashboardState = JSON.parse(json);
  local.timestamp = T0 + 1000;
  remote.timestamp = T0 + 2000;
  // Local: dismisses 10 alerts and adds 5 activities (an offline device).
  for (const alert of local.widgets.alerts.slice(0, 10)) alert.dismissed = true;
  local.widgets.activity?.activities.unshift(
    ...Array.from({ length: 5 }, (_, i) => ({
      id: `local-${i}`,
      user: 'bea',
      action: 'commented on',
      target: `task-${i}`,
      timestamp: T0 + 500 + i,
    })),
  );
  // Remote: an agent rewrote 100 metric values, removed 5 alerts, dismissed one local also did.
  for (const metric of remote.widgets.metrics?.metrics.slice(0, 100) ?? []) metric.value = 42;
  remote.widgets.alerts.splice(40, 5);
  const shared = remote.widgets.alerts[0];
  if (shared) shared.title = 'Renamed';
  return { base: JSON.parse(json), local, remote };
}

const { base, local, remote } = build();
const bytes = Buffer.byteLength(JSON.stringify(local));
let sink = 0;
for (let i = 0; i < WARMUP; i++) sink += mergeDashboardStates(base, local, remote).timestamp;
const times: number[] = [];
for (let i = 0; i < ROUNDS; i++) {
  const start = performance.now();
  sink += mergeDashboardStates(base, local, remote).timestamp;
  times.push(performance.now() - start);
}
times.sort((a, b) => a - b);
const at = (q: number) =>
  (times[Math.min(times.length - 1, Math.floor(q * times.length))] ?? 0).toFixed(3);
console.log(
  `mergeDashboardStates, two ${Math.round(bytes / 1024)} KB states, ${ROUNDS} rounds: ` +
    `median ${at(0.5)} ms, p99 ${at(0.99)} ms, max ${at(1 - 1e-9)} ms (target < 2 ms)` +
    (sink === 0 ? ' ' : ''),
);
