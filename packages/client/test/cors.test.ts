// A GET the browser refuses from another origin fails with a bare TypeError, like a
// server that is down; the engine's error says CORS, names the page's origin and what
// the API must allow, and stays plain for a same-origin failure.
import { describe, expect, it } from 'vitest';
import { fetchStoredState, ServerUnreachableError } from './support/client.js';

const refused = () => Promise.reject(new TypeError('Failed to fetch'));

async function failure(url: string, origin: string | undefined): Promise<ServerUnreachableError> {
  const error = await fetchStoredState(refused, url, 'token', origin).then(
    () => null,
    (caught: unknown) => caught,
  );
  if (!(error instanceof ServerUnreachableError)) throw new Error(`unexpected: ${String(error)}`);
  return error;
}

describe('a fetch the browser refuses', () => {
  it('says CORS and names the page’s origin and the headers to allow for another origin', async () => {
    const error = await failure(
      'https://api.example.com/api/dashboard/state',
      'https://app.example.com',
    );
    expect(error.message).toContain('CORS');
    expect(error.message).toContain('Access-Control-Allow-Origin: https://app.example.com');
    expect(error.message).toContain('Authorization, Content-Type, If-Match, If-None-Match');
    expect(error.message).toContain('expose ETag, Retry-After');
    expect(error.cause).toBeInstanceOf(TypeError);
  });

  it('stays a plain unreachable server on the page’s own origin, or outside a browser', async () => {
    const same = await failure(
      'https://app.example.com/api/dashboard/state',
      'https://app.example.com',
    );
    expect(same.message).toBe(
      'server https://app.example.com/api/dashboard/state unreachable: GET failed',
    );
    const node = await failure('https://api.example.com/api/dashboard/state', undefined);
    expect(node.message).not.toContain('CORS');
  });
});
