// Direct calls to the server API, to check what the server holds and to prepare it.
import type { StoredState } from '@hyvve/schema';

export async function devToken(baseUrl: string, user: string, workspace: string): Promise<string> {
  const response = await fetch(`${baseUrl}/api/dev/token`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ user, workspace }),
  });
  if (!response.ok) throw new Error(`dev token for ${workspace}/${user}: HTTP ${response.status}`);
  const body = (await response.json()) as { token: string };
  return body.token;
}

/** The server copy of a user's state, or null when the server holds none (404). */
export async function serverState(baseUrl: string, token: string): Promise<StoredState | null> {
  const response = await fetch(`${baseUrl}/api/dashboard/state`, {
    headers: { authorization: `Bearer ${token}` },
  });
  if (response.status === 404) return null;
  if (!response.ok) throw new Error(`GET state: HTTP ${response.status}`);
  return (await response.json()) as StoredState;
}

export async function deleteServerState(baseUrl: string, token: string): Promise<void> {
  const response = await fetch(`${baseUrl}/api/dashboard/state`, {
    method: 'DELETE',
    headers: { authorization: `Bearer ${token}` },
  });
  if (response.status !== 204) throw new Error(`DELETE state: HTTP ${response.status}`);
}

let counter = 0;
/** An id no other test of this run uses, so tests never see each other's state. */
export function uniqueId(prefix: string): string {
  counter += 1;
  return `${prefix}-${process.pid}-${Date.now().toString(36)}-${counter}`;
}
