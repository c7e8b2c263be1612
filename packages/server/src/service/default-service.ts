// Module-level functions for one-off use (scripts, agents, other services), in the
// story's shape: saves answer `false` and loads `null` when they cannot be done, with
// the reason logged, instead of throwing. They share one lazily created service: Redis
// when REDIS_URL is set, else the in-process store; `configureStatePersistence` sets it.
import type { ChannelMessage, DashboardState } from '@hyvve/schema';
import { PersistenceError } from '../errors.js';
import { errorMessage, type Logger, silentLogger } from '../logger.js';
import { createStateStore } from '../store/create-store.js';
import { type SaveOptions, StatePersistenceService } from './state-persistence-service.js';

let defaultService: StatePersistenceService | undefined;
let defaultLogger: Logger = silentLogger;

/** Uses `service` for the module-level functions (the previous one is not closed). */
export function configureStatePersistence(service: StatePersistenceService, logger?: Logger): void {
  defaultService = service;
  if (logger) defaultLogger = logger;
}

/** The service behind the module-level functions, created on first use from REDIS_URL. */
export function getStatePersistenceService(): StatePersistenceService {
  if (!defaultService) {
    const store = createStateStore({ redisUrl: process.env.REDIS_URL, logger: defaultLogger });
    defaultService = new StatePersistenceService({ store, logger: defaultLogger });
  }
  return defaultService;
}

/** Closes and forgets the module-level service (the next call creates a new one). */
export async function closeStatePersistence(): Promise<void> {
  const service = defaultService;
  defaultService = undefined;
  await service?.close();
}

function expected(error: unknown, operation: string, workspaceId: string, userId: string): void {
  if (!(error instanceof PersistenceError)) throw error;
  defaultLogger.warn(
    { workspaceId, userId, operation, code: error.code, err: errorMessage(error) },
    `${operation} failed`,
  );
}

/** Saves with TTL and publishes; false (logged) when invalid, too large, older, or the store is down. */
export async function saveState(
  workspaceId: string,
  userId: string,
  state: unknown,
  options?: SaveOptions,
): Promise<boolean> {
  try {
    await getStatePersistenceService().save({ workspaceId, userId }, state, options);
    return true;
  } catch (error) {
    expected(error, 'saveState', workspaceId, userId);
    return false;
  }
}

/** The stored state, or null when none is stored or the store is down (logged). */
export async function loadState(
  workspaceId: string,
  userId: string,
): Promise<DashboardState | null> {
  try {
    const stored = await getStatePersistenceService().load({ workspaceId, userId });
    return stored?.state ?? null;
  } catch (error) {
    expected(error, 'loadState', workspaceId, userId);
    return null;
  }
}

/** True when a stored state was removed; false when there was none or the store is down. */
export async function deleteState(workspaceId: string, userId: string): Promise<boolean> {
  try {
    const result = await getStatePersistenceService().delete({ workspaceId, userId });
    return result.deleted;
  } catch (error) {
    expected(error, 'deleteState', workspaceId, userId);
    return false;
  }
}

/**
 * Calls `callback` with every change of the user's state until the returned function is
 * called. Rejects when the store is down (there is nothing to listen to then).
 */
export async function subscribeToState(
  workspaceId: string,
  userId: string,
  callback: (message: ChannelMessage) => void,
): Promise<() => Promise<void>> {
  const subscription = await getStatePersistenceService().subscribe(
    { workspaceId, userId },
    callback,
  );
  return () => subscription.unsubscribe();
}
