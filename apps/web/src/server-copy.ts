// Deletes the server's copy of the signed-in person's dashboard over plain HTTP. Sign-out
// needs it when the engine's socket is down (a proxy that blocks WebSockets while HTTP
// works): the engine queues its delete for the socket, and stopping it drops the queue.
import { ServerRejectedError, ServerUnreachableError } from '@hyvve/client';
import { STATE_PATH } from '@hyvve/schema';

/** Sign-out waits for this at most, so a request a proxy holds open cannot stall it. */
export const DELETE_TIMEOUT_MS = 5000;

/**
 * `DELETE /api/dashboard/state` on this origin with the person's token. Resolves on 204
 * (the server also answers 204 when it held nothing). Rejects with a `ServerRejectedError`
 * for any other status, a `ServerUnreachableError` when no answer arrives.
 */
export async function deleteServerCopy(
  token: string,
  fetchImpl: typeof fetch = fetch,
): Promise<void> {
  let response: Response;
  try {
    response = await fetchImpl(STATE_PATH, {
      method: 'DELETE',
      headers: { authorization: `Bearer ${token}` },
      signal: AbortSignal.timeout(DELETE_TIMEOUT_MS),
    });
  } catch (error) {
    throw new ServerUnreachableError(STATE_PATH, undefined, 'DELETE failed', { cause: error });
  }
  if (response.status === 204) return;
  const body: unknown = await response.json().catch(() => null);
  const field = (name: string): string | undefined => {
    const value = (body as Record<string, unknown> | null)?.[name];
    return typeof value === 'string' ? value : undefined;
  };
  throw new ServerRejectedError(
    response.status,
    field('error') ?? 'http_error',
    field('message') ?? `DELETE ${STATE_PATH}`,
  );
}
