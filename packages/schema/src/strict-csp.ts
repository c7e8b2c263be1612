// Zod compiles fast object validators with `new Function`, deciding whether it may when
// each object schema is built. Under a strict Content-Security-Policy (no 'unsafe-eval',
// as the dashboard is served) even that probe is reported as a violation, though its
// error is caught. So in a browser the schemas validate without generating code; this
// module is imported before any schema is built. Node keeps the compiled validators.
import { z } from 'zod';

/** Validates without generating code from now on (for other CSP-bound runtimes). */
export function avoidRuntimeCodeGeneration(): void {
  z.config({ jitless: true });
}

if ('document' in globalThis) avoidRuntimeCodeGeneration();
