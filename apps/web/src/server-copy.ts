// Deletes the server's copy of the signed-in person's dashboard over HTTP. Sign-out
// calls it after the engine's own clear, which only reaches the server while its
// socket is connected: DELETE is idempotent (204 even when nothing is stored).
export async function deleteServerCopy(
  token: string,
  fetchImpl: typeof fetch = fetch,
): Promise<boolean> {
  try {
    const response = await fetchImpl('/api/dashboard/state', {
      method: 'DELETE',
      headers: { authorization: `Bearer ${token}` },
    });
    if (response.status === 204 || response.status === 404) return true;
    console.warn('[sign-out] the server kept its copy', { status: response.status });
    return false;
  } catch (error) {
    console.warn('[sign-out] cannot reach the server to delete its copy', error);
    return false;
  }
}
