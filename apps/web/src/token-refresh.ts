// The engine's getToken: the session's token while it has time left, else a new one from
// the dev sign-in (the only issuer this page knows), stored for reloads and other tabs.
// The engine calls it before each connect and shortly before the token expires, and
// sends the new token on the open socket, so the dashboard never reconnects for it.
import { type Session, writeSession } from './session.js';

/** A token with less than this left is replaced. */
export const REFRESH_MARGIN_MS = 120_000;

/** `exp` of a JWT in ms; undefined when unreadable (then the token is used as it is). */
function expiryOf(token: string): number | undefined {
  try {
    const payload: unknown = JSON.parse(
      atob((token.split('.')[1] ?? '').replace(/-/g, '+').replace(/_/g, '/')),
    );
    if (typeof payload !== 'object' || payload === null || !('exp' in payload)) return undefined;
    return typeof payload.exp === 'number' ? payload.exp * 1000 : undefined;
  } catch {
    return undefined;
  }
}

export interface TokenSourceOptions {
  /** The signed-in session (the newest, also when another tab refreshed it). */
  current: () => Session;
  /** Asks the issuer for a new token (the dev sign-in). */
  issue: (userId: string, workspaceId: string) => Promise<string>;
  /** Stores a refreshed session. @default writeSession */
  store?: (session: Session) => void;
  now?: () => number;
}

export function sessionTokenSource(options: TokenSourceOptions): () => Promise<string> {
  const now = options.now ?? Date.now;
  const store = options.store ?? ((session: Session) => writeSession(session));
  return async () => {
    const session = options.current();
    const expiresAt = expiryOf(session.token);
    if (expiresAt === undefined || expiresAt - now() > REFRESH_MARGIN_MS) return session.token;
    try {
      const token = await options.issue(session.userId, session.workspaceId);
      store({ ...session, token });
      return token;
    } catch (error) {
      // No new token (sign-in off, server away): the old one until the server says 401.
      console.warn('[session] cannot refresh the token', error);
      return session.token;
    }
  };
}
