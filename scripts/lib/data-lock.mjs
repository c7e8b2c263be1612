// One `npm start` per data folder: a lock file holding the owner's pid, created atomically
// (O_EXCL), and taken over only when its owner is gone. Also refuses when the folder's
// redis-server is still running without an owner (an `npm start` killed with SIGKILL leaves
// it behind), since two Redis processes appending to one AOF would corrupt it.
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

export const LOCK_FILE = 'npm-start.pid';
export const REDIS_PID_FILE = 'redis.pid';

/** The data folder is in use by another live process; the message says which and what to do. */
export class DataLockedError extends Error {
  constructor(message) {
    super(message);
    this.name = 'DataLockedError';
  }
}

function readPid(path) {
  try {
    const pid = Number.parseInt(readFileSync(path, 'utf8').trim(), 10);
    return Number.isInteger(pid) && pid > 0 ? pid : null;
  } catch (error) {
    if (error.code === 'ENOENT') return null;
    throw error;
  }
}

/**
 * Whether `pid` is a live process whose command line contains `marker`. Where /proc is
 * readable (Linux) the command line is checked, so a pid reused after a reboot by some
 * other program does not hold the folder forever; elsewhere a live pid is enough.
 */
export function isLiveProcess(pid, marker) {
  try {
    process.kill(pid, 0);
  } catch (error) {
    // EPERM: alive, owned by another user.
    if (error.code !== 'EPERM') return false;
  }
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8').includes(marker);
  } catch {
    return true;
  }
}

/**
 * Takes the lock on `dir` for this process, or throws DataLockedError. Returns the
 * release function (safe to call twice; removes the file only while it is still ours).
 */
export function acquireDataLock(dir) {
  const lockPath = join(dir, LOCK_FILE);
  const redisPid = readPid(join(dir, REDIS_PID_FILE));
  for (let attempt = 0; attempt < 2; attempt += 1) {
    try {
      writeFileSync(lockPath, `${process.pid}\n`, { flag: 'wx', mode: 0o600 });
      break;
    } catch (error) {
      if (error.code !== 'EEXIST') throw error;
    }
    const owner = readPid(lockPath);
    if (owner !== null && owner !== process.pid && isLiveProcess(owner, 'start.mjs')) {
      throw new DataLockedError(
        `${dir} is in use by another npm start (pid ${owner}): stop that one first, or set DATA_DIR to another folder`,
      );
    }
    // The owner is gone (or the file is unreadable garbage): take the lock over.
    rmSync(lockPath, { force: true });
    if (attempt === 1) throw new DataLockedError(`could not take the lock ${lockPath}`);
  }
  if (redisPid !== null && isLiveProcess(redisPid, 'redis')) {
    rmSync(lockPath, { force: true });
    throw new DataLockedError(
      `a redis-server (pid ${redisPid}) left by an earlier npm start still runs on ${dir}: stop it (kill ${redisPid}) and start again`,
    );
  }
  let released = false;
  return () => {
    if (released) return;
    released = true;
    if (readPid(lockPath) === process.pid) rmSync(lockPath, { force: true });
  };
}
