import { useMetrics } from '@hyvve/client';
import type { Metric } from '@hyvve/schema';
import { formatRelativeTime } from '../relative-time.js';
import { useNow } from '../use-now.js';
import { EmptyState, WidgetCard } from './WidgetCard.js';

const TREND_ARROW = { up: '▲', down: '▼', neutral: '■' } as const;

function formatValue(metric: Metric): string {
  const value =
    typeof metric.value === 'number'
      ? metric.value.toLocaleString(undefined, { maximumFractionDigits: 1 })
      : metric.value;
  if (!metric.unit) return value;
  return metric.unit === '%' ? `${value}%` : `${value} ${metric.unit}`;
}

function formatChange(metric: Metric): string | null {
  if (metric.changePercent === undefined) return null;
  const sign = metric.changePercent > 0 ? '+' : '';
  return `${sign}${metric.changePercent}%`;
}

export function MetricsWidget() {
  const widget = useMetrics();
  const now = useNow();
  if (!widget || widget.metrics.length === 0) {
    return (
      <WidgetCard testId="widget-metrics" title="Key metrics" className="span-7">
        <EmptyState
          title="No metrics yet"
          hint="Pick a project to load its metrics, or let an agent publish them."
        />
      </WidgetCard>
    );
  }
  return (
    <WidgetCard
      testId="widget-metrics"
      title={widget.title}
      subtitle={widget.period}
      className="span-7"
    >
      <ul className="metric-grid">
        {widget.metrics.map((metric) => {
          const trend = metric.trend ?? 'neutral';
          const change = formatChange(metric);
          return (
            <li
              key={metric.id}
              className="metric"
              data-testid="metric-item"
              data-metric-id={metric.id}
            >
              <span className="metric-label">{metric.label}</span>
              <span className="metric-value" data-testid="metric-value">
                {formatValue(metric)}
              </span>
              {change !== null && (
                <span className={`metric-change trend-${trend}`}>
                  <span aria-hidden="true">{TREND_ARROW[trend]}</span> {change}
                </span>
              )}
            </li>
          );
        })}
      </ul>
      <p className="card-foot">
        Change vs. the previous period · updated {formatRelativeTime(widget.lastUpdated, now)}
      </p>
    </WidgetCard>
  );
}
