// Deployments of the web app on one origin: the BUILT server (its package entry, with the
// configuration `npm start` reads) serving a chosen build folder, stopped and started
// again on the same port, and a second build of apps/web that differs from the first.
import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { mkdtemp, readdir } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { pathToFileURL } from 'node:url';
import { promisify } from 'node:util';
import { freePort } from '../../test-support/redis-server.js';
import { isReady, ROOT, StackStartError, stopProcess } from './stack.js';

const SERVER_ENTRY = pathToFileURL(`${ROOT}packages/server/dist/index.js`).href;
const VITE_CLI = `${ROOT}node_modules/vite/bin/vite.js`;
export const DEFAULT_WEB_DIST = `${ROOT}apps/web/dist`;
const STARTUP_TIMEOUT_MS = 30_000;
const LOG_TAIL_CHARS = 8_000;

// main.js always serves apps/web/dist; this serves E2E_WEB_DIST with the same config.
const RUNNER = `
import { loadConfig, startServer } from ${JSON.stringify(SERVER_ENTRY)};
await startServer({ ...loadConfig(process.env), staticDir: process.env.E2E_WEB_DIST });
`;

export interface Deployment {
  /** http://127.0.0.1:<port>, the same for every start. */
  readonly baseUrl: string;
  /** Starts the server serving the build in `webDist` and waits for /readyz. */
  start(webDist: string): Promise<void>;
  /** Stops it (SIGTERM, no graceful close: the port just stops answering). */
  stop(): Promise<void>;
  log(): string;
}

/** A server on a port of its own; a shared AUTH_SECRET keeps tokens good across restarts. */
export async function deployment(redisUrl: string, secret: string): Promise<Deployment> {
  const port = await freePort();
  const baseUrl = `http://127.0.0.1:${port}`;
  let child: ChildProcess | undefined;
  let log = '';
  const append = (chunk: Buffer): void => {
    log = (log + chunk.toString()).slice(-LOG_TAIL_CHARS);
  };
  return {
    baseUrl,
    log: () => log,
    async stop() {
      if (child) await stopProcess(child);
    },
    async start(webDist) {
      const env: NodeJS.ProcessEnv = {
        ...process.env,
        PORT: String(port),
        HOST: '127.0.0.1',
        REDIS_URL: redisUrl,
        AUTH_SECRET: secret,
        DEV_AUTH: '1',
        LOG_LEVEL: process.env.E2E_LOG_LEVEL ?? 'warn',
        E2E_WEB_DIST: webDist,
      };
      delete env.NODE_ENV;
      const started = spawn(process.execPath, ['--input-type=module', '-e', RUNNER], {
        cwd: ROOT,
        env,
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      child = started;
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
    },
  };
}

/** Builds apps/web again into a new temporary folder, tagged `<html data-build=buildId>`. */
export async function buildWebApp(buildId: string): Promise<string> {
  const outDir = await mkdtemp(join(tmpdir(), 'hyvve-web-'));
  await promisify(execFile)(process.execPath, [VITE_CLI, 'build', 'apps/web', '--outDir', outDir], {
    cwd: ROOT,
    env: { ...process.env, VITE_BUILD_ID: buildId },
  });
  return outDir;
}

/** The files of a build the service worker should hold (paths as the page requests them). */
export async function shellFiles(webDist: string): Promise<string[]> {
  const entries = await readdir(webDist, { recursive: true, withFileTypes: true });
  return entries
    .filter((entry) => entry.isFile())
    .map((entry) => `/${relative(webDist, join(entry.parentPath, entry.name))}`)
    .filter((path) => !path.endsWith('.map') && path !== '/service-worker.js')
    .sort();
}
