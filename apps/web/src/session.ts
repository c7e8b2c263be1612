// The signed-in session (token + ids) lives in localStorage, so a reload and every tab
// of this browser stay signed in, and signing out in one tab signs out the others
// (they see the key disappear through the `storage` event). Whether the token is still
// valid is the server's call (a 401), not this device's clock, which may be wrong.
import { ID_PATTERN } from '@hyvve/schema';

export interface Session {
  token: string;
  userId: string;
  workspaceId: string;
}

export const SESSION_KEY = 'hyvve-session';
/** Left by earlier versions of the page; removed on sign-in (the engine's copies name their owner now). */
const LEGACY_OWNER_KEY = 'hyvve-session-owner';

function isSession(value: unknown): value is Session {
  if (typeof value !== 'object' || value === null) return false;
  const record = value as Record<string, unknown>;
  return (
    typeof record.token === 'string' &&
    record.token.length > 0 &&
    typeof record.userId === 'string' &&
    ID_PATTERN.test(record.userId) &&
    typeof record.workspaceId === 'string' &&
    ID_PATTERN.test(record.workspaceId)
  );
}

/** Parses a stored session; a malformed one counts as signed out. */
export function parseSession(raw: string | null): Session | null {
  if (raw === null) return null;
  try {
    const value: unknown = JSON.parse(raw);
    return isSession(value) ? value : null;
  } catch {
    return null;
  }
}

export function ownerOf(session: Pick<Session, 'userId' | 'workspaceId'>): string {
  return `${session.workspaceId}/${session.userId}`;
}

export function readSession(storage: Storage = localStorage): Session | null {
  try {
    return parseSession(storage.getItem(SESSION_KEY));
  } catch (error) {
    // Storage can be unavailable (privacy mode, sandboxed frame): act signed out.
    console.warn('[session] cannot read session', error);
    return null;
  }
}

/**
 * Stores the session. Another person's dashboard left in this browser needs no clean-up
 * here: the persistence engine is told whose dashboard it holds (`owner`) and discards a
 * copy of anyone else's before it could be shown or synced.
 */
export function writeSession(session: Session, storage: Storage = localStorage): void {
  storage.removeItem(LEGACY_OWNER_KEY);
  storage.setItem(SESSION_KEY, JSON.stringify(session));
}

export function clearSession(storage: Storage = localStorage): void {
  try {
    storage.removeItem(SESSION_KEY);
  } catch (error) {
    console.warn('[session] cannot clear session', error);
  }
}

/** Calls `listener` when another tab signs in or out. Returns the unsubscribe. */
export function subscribeToSessionChanges(listener: (session: Session | null) => void): () => void {
  const onStorage = (event: StorageEvent): void => {
    // `key === null` means the whole storage was cleared.
    if (event.key === SESSION_KEY || event.key === null) listener(parseSession(event.newValue));
  };
  window.addEventListener('storage', onStorage);
  return () => window.removeEventListener('storage', onStorage);
}
