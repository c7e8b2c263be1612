// Where processes run. On a 2-core machine the servers under test get one core to
// themselves; the load generators and redis-server share the other (in production Redis
// runs on its own machine, so its CPU is not the server's either). The report says so.
import { spawnSync } from 'node:child_process';
import { availableParallelism } from 'node:os';

export interface CpuLayout {
  /** CPU for servers under test, or undefined when not pinned. */
  server: number | undefined;
  /** CPU for load generators and redis-server, or undefined when not pinned. */
  load: number | undefined;
  description: string;
}

function hasTaskset(): boolean {
  return spawnSync('taskset', ['-c', '0', 'true'], { stdio: 'ignore' }).status === 0;
}

export function chooseCpuLayout(pin: boolean): CpuLayout {
  const cpus = availableParallelism();
  if (!pin) return { server: undefined, load: undefined, description: `${cpus} CPUs, not pinned` };
  if (cpus < 2 || !hasTaskset()) {
    return {
      server: undefined,
      load: undefined,
      description: `${cpus} CPU(s), not pinned (taskset unavailable or one CPU)`,
    };
  }
  return {
    server: 1,
    load: 0,
    description: `${cpus} CPUs: servers under test pinned to CPU 1; load generators and redis-server to CPU 0`,
  };
}

export class PinError extends Error {
  constructor(pid: number, cpu: number, output: string) {
    super(`taskset could not pin pid ${pid} to CPU ${cpu}: ${output}`);
    this.name = 'PinError';
  }
}

/** Pins an already running process (e.g. redis-server) to one CPU. */
export function pinProcess(pid: number, cpu: number): void {
  const result = spawnSync('taskset', ['-a', '-p', '-c', String(cpu), String(pid)], {
    encoding: 'utf8',
  });
  if (result.status !== 0) throw new PinError(pid, cpu, `${result.stdout}${result.stderr}`);
}
