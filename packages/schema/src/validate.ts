import type { z } from 'zod';
import { type DashboardState, dashboardStateSchema } from './dashboard-state.js';

/** One failed check, with the dotted path of the offending value (e.g. `widgets.alerts.0.type`). */
export interface ValidationIssue {
  path: string;
  message: string;
}

export type ValidationResult<T> =
  | { success: true; data: T }
  | { success: false; error: { message: string; path: string; issues: ValidationIssue[] } };

export function formatPath(path: readonly PropertyKey[]): string {
  return path.length === 0 ? '(root)' : path.map(String).join('.');
}

/** Turns a Zod error into a typed failure whose message names the first failing path. */
export function toValidationFailure(error: z.ZodError): ValidationResult<never> {
  const issues = error.issues.map((issue) => ({
    path: formatPath(issue.path),
    message: issue.message,
  }));
  const first = issues[0] ?? { path: '(root)', message: 'invalid value' };
  return {
    success: false,
    error: { message: `${first.path}: ${first.message}`, path: first.path, issues },
  };
}

/** Validates a current-version state, applying schema defaults. Never throws. */
export function validateDashboardState(input: unknown): ValidationResult<DashboardState> {
  const result = dashboardStateSchema.safeParse(input);
  return result.success ? { success: true, data: result.data } : toValidationFailure(result.error);
}
