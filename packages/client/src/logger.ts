// Structured debug logging: every line is an event name plus a context object, so it
// can be filtered in the console or forwarded to a log pipeline.

export interface PersistenceLogger {
  debug(event: string, context?: Record<string, unknown>): void;
  warn(event: string, context?: Record<string, unknown>): void;
  error(event: string, context?: Record<string, unknown>): void;
}

const silent: PersistenceLogger = { debug() {}, warn() {}, error() {} };

function consoleLogger(prefix: string): PersistenceLogger {
  return {
    debug: (event, context) => console.debug(prefix, event, context ?? {}),
    warn: (event, context) => console.warn(prefix, event, context ?? {}),
    error: (event, context) => console.error(prefix, event, context ?? {}),
  };
}

/** `true` logs to the console, a logger object is used as is, anything else is silent. */
export function resolveLogger(debug: boolean | PersistenceLogger | undefined): PersistenceLogger {
  if (debug === true) return consoleLogger('[hyvve-persistence]');
  if (debug && typeof debug === 'object') return debug;
  return silent;
}
