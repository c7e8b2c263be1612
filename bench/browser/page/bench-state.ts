// The state the browser benchmarks update: realistic content padded to a target size,
// and the one update every contender receives (a metric value and the timestamp).
import type { DashboardState } from '@hyvve/schema';
import { makeState } from '../../../test-support/fixtures.js';

export function benchState(targetBytes: number): DashboardState {
  return makeState({ alerts: 50, activities: 100, metrics: 12, targetBytes });
}

/** Update number `n`: a new value for one metric, a newer timestamp. */
export function nextUpdate(state: DashboardState, n: number): Partial<DashboardState> {
  const metrics = state.widgets.metrics;
  if (!metrics) return { timestamp: state.timestamp + 1 };
  const index = n % metrics.metrics.length;
  return {
    timestamp: state.timestamp + 1,
    widgets: {
      ...state.widgets,
      metrics: {
        ...metrics,
        metrics: metrics.metrics.map((metric, i) =>
          i === index ? { ...metric, value: n } : metric,
        ),
        lastUpdated: state.timestamp + 1,
      },
    },
  };
}
