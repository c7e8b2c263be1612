// Several instances of the BUILT server on one Redis, each stoppable and restartable on
// its own port, as a load balancer would see them. They share AUTH_SECRET (dev sign-in
// on), so a token from one instance's sign-in is good on every other.
import { type ChildProcess, spawn } from 'node:child_process';
import { freePort } from '../../test-support/redis-server.js';
import { isReady, ROOT, StackStartError, stopProcess } from './stack.js';

const SERVER_MAIN = `${ROOT}packages/server/dist/main.js`;
const STARTUP_TIMEOUT_MS = 30_000;
const LOG_TAIL_CHARS = 8_000;

export interface ServerInstance {
  readonly baseUrl: string;
  /** Stops the process (SIGTERM); its sockets close and its port stays reserved for start(). */
  stop(): Promise<void>;
  /** Starts it again on the same port and waits for /readyz. */
  start(): Promise<void>;
  log(): string;
}

export async function serverInstance(redisUrl: string, secret: string): Promise<ServerInstance> {
  const port = await freePort();
  const baseUrl = `http://127.0.0.1:${port}`;
  let child: ChildProcess | undefined;
  let log = '';
  const start = async (): Promise<void> => {
    const env: NodeJS.ProcessEnv = {
      ...process.env,
      PORT: String(port),
      HOST: '127.0.0.1',
      REDIS_URL: redisUrl,
      AUTH_SECRET: secret,
      DEV_AUTH: '1',
      LOG_LEVEL: process.env.E2E_LOG_LEVEL ?? 'warn',
    };
    delete env.NODE_ENV;
    const started = spawn(process.execPath, [SERVER_MAIN], {
      cwd: ROOT,
      env,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    child = started;
    const append = (chunk: Buffer): void => {
      log = (log + chunk.toString()).slice(-LOG_TAIL_CHARS);
    };
    started.stdout?.on('data', append);
    started.stderr?.on('data', append);
    const deadline = Date.now() + STARTUP_TIMEOUT_MS;
    while (!(await isReady(baseUrl))) {
      if (started.exitCode !== null || Date.now() > deadline) {
        await stopProcess(started);
        throw new StackStartError(`server on ${baseUrl} did not become ready`, log);
      }
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  };
  await start();
  return {
    baseUrl,
    start,
    async stop() {
      if (child) await stopProcess(child);
    },
    log: () => log,
  };
}
