// The system under test for one e2e file: a private Redis and the BUILT server
// (`node packages/server/dist/main.js`, what `npm start` runs) serving the built page.
import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { freePort, startTestRedis, type TestRedis } from '../../test-support/redis-server.js';

export const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const SERVER_MAIN = `${ROOT}packages/server/dist/main.js`;
const PAGE_INDEX = `${ROOT}apps/web/dist/index.html`;
const STARTUP_TIMEOUT_MS = 30_000;
const LOG_TAIL_CHARS = 8_000;

export class StackStartError extends Error {
  override readonly name = 'StackStartError';
  constructor(
    message: string,
    readonly serverLog: string,
  ) {
    super(`${message}\n--- server log (tail) ---\n${serverLog}`);
  }
}

export interface Stack {
  /** http://127.0.0.1:<port> */
  readonly baseUrl: string;
  readonly redis: TestRedis;
  /** The server's recent stdout and stderr, for failure messages. */
  serverLog(): string;
  /** Stops the server and Redis. Safe to call twice. */
  close(): Promise<void>;
}

export async function isReady(baseUrl: string): Promise<boolean> {
  try {
    const response = await fetch(`${baseUrl}/readyz`, { signal: AbortSignal.timeout(1000) });
    return response.ok;
  } catch {
    return false;
  }
}

export async function stopProcess(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = once(child, 'exit');
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), 5000);
  await exited;
  clearTimeout(timer);
}

export async function startStack(): Promise<Stack> {
  for (const file of [SERVER_MAIN, PAGE_INDEX]) {
    if (!existsSync(file))
      throw new Error(`${file} is missing: run \`npm run build\` before the e2e tests`);
  }
  const redis = await startTestRedis();
  const port = await freePort();
  const baseUrl = `http://127.0.0.1:${port}`;
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    PORT: String(port),
    HOST: '127.0.0.1',
    REDIS_URL: redis.url,
    LOG_LEVEL: process.env.E2E_LOG_LEVEL ?? 'warn',
  };
  // Development mode: a per-process secret and the demo sign-in route the page uses.
  delete env.NODE_ENV;
  delete env.AUTH_SECRET;
  const server = spawn(process.execPath, [SERVER_MAIN], {
    cwd: ROOT,
    env,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let log = '';
  const append = (chunk: Buffer): void => {
    log = (log + chunk.toString()).slice(-LOG_TAIL_CHARS);
  };
  server.stdout?.on('data', append);
  server.stderr?.on('data', append);

  let closed = false;
  const close = async (): Promise<void> => {
    if (closed) return;
    closed = true;
    await stopProcess(server);
    await redis.close();
  };

  const deadline = Date.now() + STARTUP_TIMEOUT_MS;
  while (!(await isReady(baseUrl))) {
    if (server.exitCode !== null || Date.now() > deadline) {
      const reason =
        server.exitCode !== null ? `exited with code ${server.exitCode}` : 'did not become ready';
      await close();
      throw new StackStartError(`server on ${baseUrl} ${reason}`, log);
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  return { baseUrl, redis, serverLog: () => log, close };
}
