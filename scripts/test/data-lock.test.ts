// The data folder's lock (scripts/lib/data-lock.mjs) with real processes: taken, refused
// while its owner lives, taken over from a dead owner, refused while the folder's
// redis-server outlives its npm start.
import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { acquireDataLock, DataLockedError, LOCK_FILE, REDIS_PID_FILE } from '../lib/data-lock.mjs';

const cleanups: (() => void)[] = [];

afterEach(() => {
  for (const cleanup of cleanups.splice(0)) cleanup();
});

function folder(): string {
  const dir = mkdtempSync(join(tmpdir(), 'hyvve-lock-'));
  cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

/** A live process whose command line carries `marker`, like start.mjs or redis-server. */
async function liveProcess(marker: string): Promise<ChildProcess> {
  const child = spawn(
    process.execPath,
    ['-e', 'process.stdout.write("up"); setInterval(() => {}, 1000)', marker],
    {
      stdio: ['ignore', 'pipe', 'ignore'],
    },
  );
  cleanups.push(() => child.kill('SIGKILL'));
  await once(child.stdout, 'data');
  return child;
}

async function deadPid(): Promise<number> {
  const child = spawn(process.execPath, ['-e', '']);
  await once(child, 'exit');
  return child.pid as number;
}

function lockError(dir: string): DataLockedError {
  try {
    acquireDataLock(dir)();
  } catch (error) {
    if (error instanceof DataLockedError) return error;
    throw error;
  }
  throw new Error('the lock was taken');
}

describe('acquireDataLock', () => {
  it('writes this pid, and release removes the file (twice is harmless)', () => {
    const dir = folder();
    const release = acquireDataLock(dir);
    expect(readFileSync(join(dir, LOCK_FILE), 'utf8')).toBe(`${process.pid}\n`);
    release();
    release();
    expect(existsSync(join(dir, LOCK_FILE))).toBe(false);
  });

  it('refuses while another live npm start holds the folder', async () => {
    const dir = folder();
    const owner = await liveProcess('scripts/start.mjs');
    writeFileSync(join(dir, LOCK_FILE), `${owner.pid}\n`);
    expect(lockError(dir).message).toBe(
      `${dir} is in use by another npm start (pid ${owner.pid}): stop that one first, or set DATA_DIR to another folder`,
    );
    expect(readFileSync(join(dir, LOCK_FILE), 'utf8')).toBe(`${owner.pid}\n`);
  });

  it('takes the lock over from an owner that is gone', async () => {
    const dir = folder();
    writeFileSync(join(dir, LOCK_FILE), `${await deadPid()}\n`);
    const release = acquireDataLock(dir);
    expect(readFileSync(join(dir, LOCK_FILE), 'utf8')).toBe(`${process.pid}\n`);
    release();
  });

  it('refuses while the folder’s redis-server still runs without its npm start', async () => {
    const dir = folder();
    const orphan = await liveProcess('redis-server stand-in');
    writeFileSync(join(dir, REDIS_PID_FILE), `${orphan.pid}\n`);
    expect(lockError(dir).message).toBe(
      `a redis-server (pid ${orphan.pid}) left by an earlier npm start still runs on ${dir}: stop it (kill ${orphan.pid}) and start again`,
    );
    expect(existsSync(join(dir, LOCK_FILE))).toBe(false);
  });
});
