// The `DashboardState` contract (ARCHITECTURE.md, "State"), shared by browser and server.
import './strict-csp.js';
import { z } from 'zod';
import { ID_PATTERN, MAX_ACTIVITIES, MAX_ALERTS, STATE_VERSION } from './constants.js';

const timestampMs = z.number().finite().nonnegative();

export const projectStatusSchema = z.object({
  projectId: z.string().min(1),
  name: z.string(),
  status: z.enum(['on-track', 'at-risk', 'behind', 'completed']),
  progress: z.number().min(0).max(100),
  tasksCompleted: z.number().int().min(0),
  tasksTotal: z.number().int().min(0),
  lastUpdated: timestampMs,
  summary: z.string().optional(),
});

export const metricSchema = z.object({
  id: z.string().min(1),
  label: z.string(),
  value: z.union([z.number().finite(), z.string()]),
  unit: z.string().optional(),
  trend: z.enum(['up', 'down', 'neutral']).optional(),
  change: z.number().finite().optional(),
  changePercent: z.number().finite().optional(),
});

export const metricsWidgetSchema = z.object({
  title: z.string().default('Key Metrics'),
  metrics: z.array(metricSchema),
  period: z.string().optional(),
  lastUpdated: timestampMs,
});

export const activityEntrySchema = z.object({
  id: z.string().min(1),
  user: z.string(),
  userAvatar: z.string().optional(),
  action: z.string(),
  target: z.string().optional(),
  timestamp: timestampMs,
  projectId: z.string().optional(),
});

export const activityWidgetSchema = z.object({
  activities: z.array(activityEntrySchema).max(MAX_ACTIVITIES),
  hasMore: z.boolean().default(false),
  lastUpdated: timestampMs,
});

export const alertSchema = z.object({
  id: z.string().min(1),
  type: z.enum(['error', 'warning', 'info', 'success']),
  title: z.string(),
  message: z.string(),
  timestamp: timestampMs,
  dismissable: z.boolean().default(true),
  dismissed: z.boolean().default(false),
  actionLabel: z.string().optional(),
  actionUrl: z.string().optional(),
});

export const loadingStateSchema = z.object({
  isLoading: z.boolean(),
  loadingAgents: z.array(z.string()),
  startedAt: timestampMs.optional(),
});

export const dashboardStateSchema = z.object({
  version: z.literal(STATE_VERSION),
  timestamp: timestampMs,
  activeProject: z.string().nullable(),
  workspaceId: z.string().regex(ID_PATTERN).optional(),
  userId: z.string().regex(ID_PATTERN).optional(),
  widgets: z.object({
    projectStatus: projectStatusSchema.nullable(),
    metrics: metricsWidgetSchema.nullable(),
    activity: activityWidgetSchema.nullable(),
    alerts: z.array(alertSchema).max(MAX_ALERTS),
  }),
  loading: loadingStateSchema,
  errors: z.record(z.string(), z.string()),
});

export type ProjectStatus = z.infer<typeof projectStatusSchema>;
export type ProjectStatusValue = ProjectStatus['status'];
export type Metric = z.infer<typeof metricSchema>;
export type MetricsWidget = z.infer<typeof metricsWidgetSchema>;
export type ActivityEntry = z.infer<typeof activityEntrySchema>;
export type ActivityWidget = z.infer<typeof activityWidgetSchema>;
export type Alert = z.infer<typeof alertSchema>;
export type AlertType = Alert['type'];
export type LoadingState = z.infer<typeof loadingStateSchema>;
export type DashboardWidgets = DashboardState['widgets'];
/** A validated dashboard state (defaults applied). */
export type DashboardState = z.infer<typeof dashboardStateSchema>;
/** What a caller may pass before defaults are applied. */
export type DashboardStateInput = z.input<typeof dashboardStateSchema>;
