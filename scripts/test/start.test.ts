// `npm start` (scripts/start.mjs) as a user runs it, with real processes: the default keeps
// state in a private redis-server on DATA_DIR/redis across restarts, one npm start per data
// folder, no Redis left after a stop, and the memory store (with its warning) without
// redis-server or with STORE=memory.
import { existsSync, mkdtempSync, readFileSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { makeState } from '../../test-support/fixtures.js';
import { startTestRedis } from '../../test-support/redis-server.js';
import { ensureBuilds } from '../setup.mjs';
import { devToken, isRunning, NpmStart, readyz, root } from './support/npm-start.js';

const STORE_PATH = '/api/dashboard/state';
const folders: string[] = [];
const running: NpmStart[] = [];

function tempFolder(prefix: string): string {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  folders.push(dir);
  return dir;
}

function npmStart(env: Record<string, string>): NpmStart {
  const started = new NpmStart(env);
  running.push(started);
  return started;
}

beforeAll(() => {
  // Build once here, so each start below only starts.
  ensureBuilds(root);
}, 600_000);

afterEach(async () => {
  await Promise.all(running.splice(0).map((started) => started.stop()));
});

afterAll(() => {
  for (const dir of folders) rmSync(dir, { recursive: true, force: true });
});

describe('npm start with the embedded Redis', () => {
  it('keeps the state and its revision across a restart, one instance per folder, nothing left running', async () => {
    const dataDir = tempFolder('hyvve-start-');
    const redisDir = join(dataDir, 'redis');
    const first = npmStart({ DATA_DIR: dataDir });
    const [, pid] = await first.waitFor(
      /private redis-server \(pid (\d+), 127\.0\.0\.1:\d+\) in (\S+);/,
    );
    expect(first.output).toContain(`in ${redisDir}; delete that folder to start afresh`);
    const url = await first.baseUrl();
    expect(await readyz(url)).toEqual({ status: 'ready', store: 'redis' });

    const token = await devToken(url);
    const headers = { authorization: `Bearer ${token}`, 'content-type': 'application/json' };
    const state = makeState({ alerts: 2, activeProject: 'apollo' });
    for (const expected of [1, 2]) {
      const saved = await fetch(`${url}${STORE_PATH}`, {
        method: 'POST',
        headers,
        body: JSON.stringify({ state: { ...state, timestamp: state.timestamp + expected } }),
      });
      expect(saved.status).toBe(200);
      expect(((await saved.json()) as { revision: number }).revision).toBe(expected);
    }

    // A second npm start on the same folder says why it cannot start.
    const second = npmStart({ DATA_DIR: dataDir });
    expect((await second.exited).code).toBe(1);
    expect(second.output).toMatch(
      /start: \S+ is in use by another npm start \(pid \d+\): stop that one first, or set DATA_DIR/,
    );
    expect(await readyz(url)).toEqual({ status: 'ready', store: 'redis' });

    // The server shuts down gracefully on SIGTERM, and npm start exits as it did.
    expect(await first.stop()).toEqual({ code: 0, signal: null });
    expect(isRunning(Number(pid))).toBe(false);
    expect(existsSync(join(redisDir, 'redis.pid'))).toBe(false);
    expect(existsSync(join(redisDir, 'npm-start.pid'))).toBe(false);
    expect(existsSync(join(redisDir, 'appendonlydir'))).toBe(true);

    const again = npmStart({ DATA_DIR: dataDir });
    const [, againPid] = await again.waitFor(/private redis-server \(pid (\d+),/);
    const againUrl = await again.baseUrl();
    expect(await readyz(againUrl)).toEqual({ status: 'ready', store: 'redis' });
    const loaded = await fetch(`${againUrl}${STORE_PATH}`, {
      headers: { authorization: `Bearer ${await devToken(againUrl)}` },
    });
    expect(loaded.status).toBe(200);
    const body = (await loaded.json()) as { state: { timestamp: number }; revision: number };
    expect(body.revision).toBe(2);
    expect(body.state.timestamp).toBe(state.timestamp + 2);

    // Ctrl-C reaches the server and npm start, not Redis, which is then shut down cleanly.
    expect(await again.interrupt()).toEqual({ code: 0, signal: null });
    expect(isRunning(Number(againPid))).toBe(false);
    expect(readFileSync(join(redisDir, 'redis.log'), 'utf8')).toMatch(
      /User requested shutdown[\s\S]*fsync\(\) on the AOF[\s\S]*ready to exit, bye bye/,
    );
  });

  it('stops when its Redis dies, and the next start recovers the folder', async () => {
    const dataDir = tempFolder('hyvve-start-crash-');
    const first = npmStart({ DATA_DIR: dataDir });
    const [, pid] = await first.waitFor(/private redis-server \(pid (\d+),/);
    await first.baseUrl();
    process.kill(Number(pid), 'SIGKILL');
    expect((await first.exited).code).toBe(1);
    expect(first.output).toContain('start: redis-server exited unexpectedly');
    // Its pidfile is left behind, naming a dead process: no reason to refuse.
    expect(existsSync(join(dataDir, 'redis', 'redis.pid'))).toBe(true);

    const again = npmStart({ DATA_DIR: dataDir });
    expect(await readyz(await again.baseUrl())).toEqual({ status: 'ready', store: 'redis' });
  });

  it('uses a given REDIS_URL and starts no Redis of its own', async () => {
    const redis = await startTestRedis();
    try {
      const dataDir = tempFolder('hyvve-start-url-');
      const started = npmStart({ DATA_DIR: dataDir, REDIS_URL: redis.url });
      expect(await readyz(await started.baseUrl())).toEqual({ status: 'ready', store: 'redis' });
      expect(started.output).not.toContain('private redis-server');
      expect(existsSync(join(dataDir, 'redis'))).toBe(false);
      await started.stop();
    } finally {
      await redis.close();
    }
  });
});

describe('npm start with the memory store', () => {
  it('falls back to it with one loud line when redis-server is not on PATH', async () => {
    // A PATH holding node alone: no redis-server, and no apt-get to install one.
    const bin = tempFolder('hyvve-start-bin-');
    symlinkSync(process.execPath, join(bin, 'node'));
    const dataDir = tempFolder('hyvve-start-mem-');
    const started = npmStart({ DATA_DIR: dataDir, PATH: bin });
    expect(await readyz(await started.baseUrl())).toEqual({ status: 'ready', store: 'memory' });
    const warnings = started.output.split('\n').filter((line) => line.includes('WARNING'));
    expect(warnings).toEqual([
      'start: WARNING: redis-server is not installed (Debian/Ubuntu: sudo apt-get install -y redis-server; macOS: brew install redis). Using the MEMORY store: state will NOT survive a restart of npm start.',
    ]);
    expect(existsSync(join(dataDir, 'redis'))).toBe(false);
  });

  it('uses it when STORE=memory asks for it', async () => {
    const dataDir = tempFolder('hyvve-start-store-');
    const started = npmStart({ DATA_DIR: dataDir, STORE: 'memory' });
    expect(await readyz(await started.baseUrl())).toEqual({ status: 'ready', store: 'memory' });
    expect(started.output).toContain(
      'start: STORE=memory: state is kept in the server process only and will NOT survive a restart',
    );
    expect(started.output).not.toContain('private redis-server');
    expect(existsSync(join(dataDir, 'redis'))).toBe(false);
  });

  it('refuses STORE=redis when redis-server cannot be had', async () => {
    const bin = tempFolder('hyvve-start-bin-');
    symlinkSync(process.execPath, join(bin, 'node'));
    const started = npmStart({
      DATA_DIR: tempFolder('hyvve-start-req-'),
      PATH: bin,
      STORE: 'redis',
    });
    expect((await started.exited).code).toBe(1);
    expect(started.output).toContain('start: STORE=redis: redis-server is not installed');
  });
});
