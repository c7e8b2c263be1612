// Validating a state: `validateDashboardState` runs the Zod-free parser (parse-state.ts),
// which answers exactly as `dashboardStateSchema.safeParse` (property-tested), so neither
// the browser nor the server pays for Zod's runtime to check a state.
import type { z } from 'zod';
import type { DashboardState } from './dashboard-state.js';
import { parseDashboardState } from './parse-state.js';
import { formatPath, type ValidationResult } from './validation-result.js';

export type { ValidationIssue, ValidationResult } from './validation-result.js';
export { formatPath } from './validation-result.js';

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
  return parseDashboardState(input);
}
