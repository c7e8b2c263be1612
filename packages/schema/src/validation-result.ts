// The result of validating a state, shared by the Zod-free parser (parse-state.ts), the
// migrations and Zod-based callers: success with the data, or the failing paths.

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
