// Reads a process's resident memory from /proc, as the OS sees it (Linux only).
import { readFile } from 'node:fs/promises';

export class ProcStatusError extends Error {
  constructor(
    readonly pid: number,
    message: string,
  ) {
    super(`/proc/${pid}/status: ${message}`);
    this.name = 'ProcStatusError';
  }
}

/** VmRSS of the process, in bytes. */
export async function readRssBytes(pid: number): Promise<number> {
  const status = await readFile(`/proc/${pid}/status`, 'utf8');
  const match = /^VmRSS:\s+(\d+)\s+kB$/m.exec(status);
  if (!match?.[1]) throw new ProcStatusError(pid, 'no VmRSS line');
  return Number(match[1]) * 1024;
}

/** CPU seconds (user + system) the process has used so far. */
export async function readCpuSeconds(pid: number): Promise<number> {
  const stat = await readFile(`/proc/${pid}/stat`, 'utf8');
  // Fields after the command name (which may contain spaces) start after the last ')'.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  const utime = Number(fields[11]);
  const stime = Number(fields[12]);
  if (!Number.isFinite(utime) || !Number.isFinite(stime)) {
    throw new ProcStatusError(pid, 'unreadable utime/stime');
  }
  // Linux reports clock ticks; USER_HZ is 100 on every mainstream kernel.
  return (utime + stime) / 100;
}

/** CPU seconds every CPU of the machine has spent busy (not idle or iowait) since boot. */
export async function readMachineBusySeconds(): Promise<number> {
  const stat = await readFile('/proc/stat', 'utf8');
  const line = stat.split('\n').find((l) => l.startsWith('cpu '));
  if (!line) throw new ProcStatusError(0, 'no cpu line in /proc/stat');
  // user nice system idle iowait irq softirq steal ...
  const [user, nice, system, , , irq, softirq, steal] = line
    .trim()
    .split(/\s+/)
    .slice(1)
    .map(Number);
  return (
    ((user ?? 0) + (nice ?? 0) + (system ?? 0) + (irq ?? 0) + (softirq ?? 0) + (steal ?? 0)) / 100
  );
}

export interface CpuAccount {
  /** Wall seconds since the account started. */
  wallS: number;
  /** CPU seconds of each watched process. */
  byPid: Record<number, number>;
  /** CPU seconds the rest of the machine used meanwhile (other people's work on a shared machine). */
  othersS: number;
}

/**
 * Starts accounting CPU time: the watched processes (servers, generators, Redis) and
 * everything else. A high `othersS` means the figure was measured on a contended machine.
 */
export async function startCpuAccount(pids: number[]): Promise<() => Promise<CpuAccount>> {
  const since = Date.now();
  const machineBefore = await readMachineBusySeconds();
  const before = await Promise.all(pids.map((pid) => readCpuSeconds(pid)));
  return async () => {
    const machine = (await readMachineBusySeconds()) - machineBefore;
    const after = await Promise.all(pids.map((pid) => readCpuSeconds(pid).catch(() => Number.NaN)));
    const byPid: Record<number, number> = {};
    let watched = 0;
    pids.forEach((pid, i) => {
      const used = (after[i] ?? 0) - (before[i] ?? 0);
      byPid[pid] = used;
      if (Number.isFinite(used)) watched += used;
    });
    return { wallS: (Date.now() - since) / 1000, byPid, othersS: Math.max(0, machine - watched) };
  };
}
