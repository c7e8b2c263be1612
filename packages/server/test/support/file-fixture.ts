// Something a test file starts once before all its tests and stops after them (a Redis, a
// pair of servers), read inside the tests through the getter this returns.
import { afterAll, beforeAll } from 'vitest';

/** Registers the start and stop hooks; the getter throws, naming `what`, if read before the start. */
export function fileFixture<T>(
  what: string,
  start: () => Promise<T>,
  stop: (value: T) => Promise<void>,
): () => T {
  let value: T | undefined;
  beforeAll(async () => {
    value = await start();
  });
  afterAll(async () => {
    if (value !== undefined) await stop(value);
  });
  return () => {
    if (value === undefined) throw new Error(`${what} is not started yet (read it inside tests)`);
    return value;
  };
}
