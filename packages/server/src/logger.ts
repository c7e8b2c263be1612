// The slice of a pino logger the persistence layer needs, so the service and stores
// can log through Fastify's logger, a standalone pino, or nothing.
export interface Logger {
  debug(context: object, message: string): void;
  info(context: object, message: string): void;
  warn(context: object, message: string): void;
  error(context: object, message: string): void;
}

const ignore = (): void => {};

export const silentLogger: Logger = { debug: ignore, info: ignore, warn: ignore, error: ignore };

/** Message of an unknown thrown value, for logs (never the value itself: it may hold a state). */
export function errorMessage(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
