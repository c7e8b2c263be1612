// Starts a server or load generator in its own Node process (optionally pinned to one
// CPU with taskset) and talks to it over IPC. Every child is stopped by its handle.
import { type ChildProcess, spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import type { FromChild, MemoryReport, ToChild } from './ipc.js';

export class BenchChildError extends Error {
  constructor(
    readonly child: string,
    message: string,
    readonly output: string,
  ) {
    super(`${child}: ${message}${output ? `\n--- last output of ${child} ---\n${output}` : ''}`);
    this.name = 'BenchChildError';
  }
}

export interface BenchChildOptions {
  /** Short name used in errors and logs, e.g. `ours-a`. */
  name: string;
  /** Path of the script, relative to bench/ (e.g. `servers/redis-floor-server.ts`), or absolute. */
  script: string;
  env?: Record<string, string>;
  /** CPU index to pin the process to (taskset -c), or undefined to let the OS schedule it. */
  cpu?: number | undefined;
  /** Extra Node flags, e.g. `--expose-gc` or `--cpu-prof`. */
  nodeArgs?: string[];
  /** Raise the open-files limit of the process to this many (for thousands of sockets). */
  openFiles?: number;
  readyTimeoutMs?: number;
}

export interface BenchChild {
  readonly name: string;
  readonly pid: number;
  /** The port a server child listens on (undefined for load generators). */
  readonly port: number | undefined;
  /** Runs the child's job with `config` and resolves with its result. */
  run<Result>(config: unknown, timeoutMs: number): Promise<Result>;
  memory(): Promise<MemoryReport>;
  /** Asks the child to exit (so profiles get written), then kills it if it lingers. */
  stop(): Promise<void>;
}

const benchDir = fileURLToPath(new URL('..', import.meta.url));
const OUTPUT_LINES_KEPT = 60;
const verbose = process.env.BENCH_VERBOSE === '1';

function commandFor(options: BenchChildOptions): { command: string; args: string[] } {
  const script = options.script.startsWith('/') ? options.script : `${benchDir}${options.script}`;
  const loader = script.endsWith('.ts') ? ['--import', 'tsx'] : [];
  let command = process.execPath;
  let args = [...(options.nodeArgs ?? []), ...loader, script];
  if (options.openFiles !== undefined) {
    // `exec` keeps the pid, so the handle's pid is the Node process itself.
    args = ['-c', `ulimit -n ${options.openFiles} && exec "$0" "$@"`, command, ...args];
    command = '/bin/sh';
  }
  if (options.cpu !== undefined) {
    args = ['-c', String(options.cpu), command, ...args];
    command = 'taskset';
  }
  return { command, args };
}

function keepTail(lines: string[], chunk: Buffer, prefix: string): void {
  for (const line of chunk.toString().split('\n')) {
    if (line.trim() === '') continue;
    lines.push(line);
    if (verbose) process.stderr.write(`[${prefix}] ${line}\n`);
  }
  if (lines.length > OUTPUT_LINES_KEPT) lines.splice(0, lines.length - OUTPUT_LINES_KEPT);
}

export async function startBenchChild(options: BenchChildOptions): Promise<BenchChild> {
  const { command, args } = commandFor(options);
  const output: string[] = [];
  const child: ChildProcess = spawn(command, args, {
    cwd: fileURLToPath(new URL('../..', import.meta.url)),
    env: { ...process.env, ...options.env },
    stdio: ['ignore', 'pipe', 'pipe', 'ipc'],
  });
  child.stdout?.on('data', (chunk: Buffer) => keepTail(output, chunk, options.name));
  child.stderr?.on('data', (chunk: Buffer) => keepTail(output, chunk, options.name));
  const fail = (message: string): BenchChildError =>
    new BenchChildError(options.name, message, output.join('\n'));

  let exited = child.exitCode !== null;
  const exit = new Promise<void>((resolve) => {
    child.once('exit', () => {
      exited = true;
      resolve();
    });
  });

  // One waiter at a time: the orchestrator drives each child sequentially.
  let waiter: { accept: (m: FromChild) => boolean; reject: (e: Error) => void } | null = null;
  child.on('message', (message: FromChild) => {
    if (message.type === 'progress') {
      if (verbose) process.stderr.write(`[${options.name}] ${message.message}\n`);
      return;
    }
    if (message.type === 'failed') {
      waiter?.reject(fail(`${message.message}${message.stack ? `\n${message.stack}` : ''}`));
      waiter = null;
      return;
    }
    if (waiter?.accept(message)) waiter = null;
  });
  child.once('exit', (code, signal) => {
    waiter?.reject(fail(`exited early (code ${code}, signal ${signal})`));
    waiter = null;
  });

  const waitFor = <T extends FromChild['type']>(
    type: T,
    timeoutMs: number,
    send?: ToChild,
  ): Promise<Extract<FromChild, { type: T }>> =>
    new Promise((resolve, reject) => {
      if (exited) {
        reject(fail('is not running'));
        return;
      }
      const timer = setTimeout(() => {
        waiter = null;
        reject(fail(`no '${type}' within ${timeoutMs} ms`));
      }, timeoutMs);
      waiter = {
        accept: (message) => {
          if (message.type !== type) return false;
          clearTimeout(timer);
          resolve(message as Extract<FromChild, { type: T }>);
          return true;
        },
        reject: (error) => {
          clearTimeout(timer);
          reject(error);
        },
      };
      if (send) child.send(send);
    });

  let ready: Extract<FromChild, { type: 'ready' }>;
  try {
    ready = await waitFor('ready', options.readyTimeoutMs ?? 30_000);
  } catch (error) {
    child.kill('SIGKILL');
    throw error;
  }
  const pid = child.pid;
  if (pid === undefined) throw fail('has no pid');

  let stopping: Promise<void> | null = null;
  return {
    name: options.name,
    pid,
    port: ready.port,
    run: async <Result>(config: unknown, timeoutMs: number) =>
      (await waitFor('result', timeoutMs, { type: 'run', config })).result as Result,
    memory: async () => {
      const { type: _type, ...report } = await waitFor('memory', 30_000, { type: 'memory' });
      return report;
    },
    stop: () => {
      stopping ??= (async () => {
        if (exited) return;
        waiter = null;
        if (child.connected) child.send({ type: 'shutdown' } satisfies ToChild);
        const killer = setTimeout(() => child.kill('SIGKILL'), 10_000);
        await exit;
        clearTimeout(killer);
      })();
      return stopping;
    },
  };
}
