// Real servers on port 0 (and real Redis) for tests, with teardown registered once.
import { afterAll } from 'vitest';
import { type RunningServer, type ServerOptions, signToken, startServer } from '../../src/index.js';

export const TEST_SECRET = 'test-secret-that-is-long-enough-for-hs256!';

/** Starts a server that is closed after the test file. */
export async function testServer(options: ServerOptions = {}): Promise<RunningServer> {
  const server = await startServer({
    logLevel: 'silent',
    authSecret: TEST_SECRET,
    rateLimit: false,
    ...options,
  });
  afterAll(() => server.close());
  return server;
}

export function tokenFor(
  userId: string,
  workspaceId = 'acme',
  secret = TEST_SECRET,
  expiresInSeconds?: number,
): Promise<string> {
  return signToken({
    userId,
    workspaceId,
    secret,
    ...(expiresInSeconds === undefined ? {} : { expiresInSeconds }),
  });
}

export function wsUrl(server: RunningServer): string {
  return `${server.url.replace('http', 'ws')}/api/dashboard/state/subscribe`;
}

export interface ApiResponse {
  status: number;
  headers: Headers;
  body: unknown;
  text: string;
}

/** fetch against the server with an optional bearer token and JSON body. */
export async function api(
  server: RunningServer,
  method: string,
  path: string,
  options: {
    token?: string;
    body?: unknown;
    rawBody?: string;
    headers?: Record<string, string>;
  } = {},
): Promise<ApiResponse> {
  const headers: Record<string, string> = { ...options.headers };
  if (options.token) headers.authorization = `Bearer ${options.token}`;
  let body: string | undefined;
  if (options.rawBody !== undefined) body = options.rawBody;
  else if (options.body !== undefined) body = JSON.stringify(options.body);
  if (body !== undefined && !headers['content-type']) headers['content-type'] = 'application/json';
  const response = await fetch(`${server.url}${path}`, {
    method,
    headers,
    ...(body === undefined ? {} : { body }),
  });
  const text = await response.text();
  let parsed: unknown;
  try {
    parsed = text ? JSON.parse(text) : undefined;
  } catch {
    parsed = undefined;
  }
  return { status: response.status, headers: response.headers, body: parsed, text };
}

/** A property of a JSON body, for assertions (`field(res.body, 'error')`). */
export function field(body: unknown, name: string): unknown {
  return typeof body === 'object' && body !== null && name in body
    ? (body as Record<string, unknown>)[name]
    : undefined;
}
