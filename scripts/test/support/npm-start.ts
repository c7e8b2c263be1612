// Runs `npm start` (scripts/start.mjs) as a real process for the tests: its output kept,
// waits on its log lines and its exit (bounded, never fixed sleeps), its HTTP address read
// from the server's "Server listening at" line.
import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..');

/** Variables of the test's own environment that would change what `npm start` chooses. */
const STORE_VARIABLES = ['REDIS_URL', 'REDIS_CLUSTER_NODES', 'REDIS_PUBSUB', 'STORE', 'DATA_DIR'];

export class NpmStart {
  readonly child: ChildProcess;
  output = '';
  private readonly waiters = new Set<() => void>();
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;

  constructor(env: Record<string, string>) {
    const base = { ...process.env };
    for (const name of STORE_VARIABLES) delete base[name];
    delete base.AUTH_SECRET;
    this.child = spawn(process.execPath, [join(root, 'scripts/start.mjs')], {
      cwd: root,
      env: { ...base, PORT: '0', LOG_LEVEL: 'info', ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
      // Its own process group, as in a terminal, so interrupt() can signal the group.
      detached: true,
    });
    const append = (chunk: Buffer): void => {
      this.output += chunk.toString();
      for (const waiter of this.waiters) waiter();
    };
    this.child.stdout?.on('data', append);
    this.child.stderr?.on('data', append);
    this.exited = once(this.child, 'exit').then(([code, signal]) => {
      for (const waiter of this.waiters) waiter();
      return { code, signal };
    });
  }

  /** Resolves with the first match of `pattern` in the output; rejects on exit or timeout. */
  waitFor(pattern: RegExp, timeoutMs = 60_000): Promise<RegExpMatchArray> {
    return new Promise((resolve, reject) => {
      const check = (): void => {
        const match = this.output.match(pattern);
        if (match) done(() => resolve(match));
        else if (this.child.exitCode !== null || this.child.signalCode !== null) {
          done(() => reject(new Error(`npm start exited before ${pattern}:\n${this.output}`)));
        }
      };
      const timer = setTimeout(
        () =>
          done(() => reject(new Error(`no ${pattern} within ${timeoutMs} ms:\n${this.output}`))),
        timeoutMs,
      );
      const done = (settle: () => void): void => {
        clearTimeout(timer);
        this.waiters.delete(check);
        settle();
      };
      this.waiters.add(check);
      check();
    });
  }

  /** The server's base URL, once it listens. */
  async baseUrl(): Promise<string> {
    const match = await this.waitFor(/Server listening at (http:\/\/127\.0\.0\.1:\d+)/);
    return match[1] as string;
  }

  /** Ctrl-C in a terminal: SIGINT to the whole foreground process group; waits for the exit. */
  async interrupt(): Promise<{ code: number | null; signal: NodeJS.Signals | null }> {
    process.kill(-(this.child.pid as number), 'SIGINT');
    return this.exited;
  }

  /** Sends SIGTERM and waits for the exit. */
  async stop(): Promise<{ code: number | null; signal: NodeJS.Signals | null }> {
    if (this.child.exitCode === null && this.child.signalCode === null) this.child.kill('SIGTERM');
    return this.exited;
  }
}

/** A dev sign-in token (no AUTH_SECRET on a loopback host). */
export async function devToken(baseUrl: string): Promise<string> {
  const response = await fetch(`${baseUrl}/api/dev/token`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ user: 'alice', workspace: 'acme' }),
  });
  if (response.status !== 200) throw new Error(`dev token: ${response.status}`);
  return ((await response.json()) as { token: string }).token;
}

export async function readyz(baseUrl: string): Promise<unknown> {
  return (await fetch(`${baseUrl}/readyz`)).json();
}

/** Whether a process with this pid exists. */
export function isRunning(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}
