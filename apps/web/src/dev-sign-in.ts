// Demo sign-in: trades a user id and workspace id for a token from the server's
// development route (`POST /api/dev/token`), which exists only when dev auth is on.
import { ID_PATTERN } from '@hyvve/schema';

export type SignInFailure = 'invalid_input' | 'disabled' | 'rejected' | 'unreachable';

/** Why a sign-in failed, with a message a person can act on. */
export class SignInError extends Error {
  override readonly name = 'SignInError';
  constructor(
    readonly reason: SignInFailure,
    message: string,
    readonly status?: number,
  ) {
    super(message);
  }
}

export function checkId(label: string, value: string): void {
  if (!ID_PATTERN.test(value)) {
    throw new SignInError(
      'invalid_input',
      `${label} must be 1 to 128 letters, digits, "-" or "_" (got "${value}").`,
    );
  }
}

async function errorMessage(response: Response): Promise<string | null> {
  try {
    const body: unknown = await response.json();
    if (typeof body === 'object' && body !== null) {
      const message = (body as Record<string, unknown>).message;
      if (typeof message === 'string') return message;
    }
  } catch {
    // A body that is not JSON (a proxy error page): fall back to the status text.
  }
  return null;
}

export async function requestDevToken(
  userId: string,
  workspaceId: string,
  fetchImpl: typeof fetch = fetch,
): Promise<string> {
  checkId('User id', userId);
  checkId('Workspace id', workspaceId);
  let response: Response;
  try {
    response = await fetchImpl('/api/dev/token', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ user: userId, workspace: workspaceId }),
    });
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error);
    throw new SignInError('unreachable', `Cannot reach the server (${reason}). Is it running?`);
  }
  if (response.status === 404) {
    throw new SignInError(
      'disabled',
      'Demo sign-in is turned off on this server (production mode). Ask for a token made with `npm run token`.',
      404,
    );
  }
  if (!response.ok) {
    const message = (await errorMessage(response)) ?? response.statusText;
    throw new SignInError(
      'rejected',
      `Sign-in failed (${response.status}): ${message}`,
      response.status,
    );
  }
  const body: unknown = await response.json();
  const token =
    typeof body === 'object' && body !== null ? (body as Record<string, unknown>).token : null;
  if (typeof token !== 'string' || token.length === 0) {
    throw new SignInError('rejected', 'The server answered without a token.', response.status);
  }
  return token;
}
