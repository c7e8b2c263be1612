// The child half of the IPC protocol: servers and load generators call one of these.
import type { FromChild, MemoryReport, ToChild } from './ipc.js';

export class NoParentChannelError extends Error {
  constructor(script: string) {
    super(`${script} must be started by the bench orchestrator (no IPC channel)`);
    this.name = 'NoParentChannelError';
  }
}

export function sendToParent(message: FromChild): void {
  if (!process.send) throw new NoParentChannelError(process.argv[1] ?? 'this script');
  process.send(message);
}

function describe(error: unknown): { message: string; stack?: string } {
  if (error instanceof Error) {
    return error.stack === undefined
      ? { message: error.message }
      : { message: error.message, stack: error.stack };
  }
  return { message: String(error) };
}

/** Reports a failure to the orchestrator, then exits non-zero once the message is out. */
export function failAndExit(error: unknown): void {
  process.exitCode = 1;
  const exit = (): void => {
    process.exit(1);
  };
  if (!process.send) {
    process.stderr.write(`${describe(error).stack ?? describe(error).message}\n`);
    exit();
    return;
  }
  process.send({ type: 'failed', ...describe(error) } satisfies FromChild, undefined, {}, exit);
}

export function measureMemory(): MemoryReport {
  const gc = (globalThis as { gc?: () => void }).gc;
  if (gc) {
    // Twice: the first pass can leave objects that only the second frees (weak refs, finalizers).
    gc();
    gc();
  }
  const usage = process.memoryUsage();
  return { rssBytes: usage.rss, heapUsedBytes: usage.heapUsed, gcRan: gc !== undefined };
}

function onParentMessage(handler: (message: ToChild) => Promise<void>): void {
  process.on('message', (message: ToChild) => {
    handler(message).catch(failAndExit);
  });
  // The orchestrator died: do not linger.
  process.on('disconnect', () => process.exit(0));
}

export interface RunningServer {
  port: number;
  close(): Promise<void>;
}

/** Starts a server, says `ready` with its port, and serves memory/shutdown requests. */
export async function runServerChild(start: () => Promise<RunningServer>): Promise<void> {
  let server: RunningServer;
  try {
    server = await start();
  } catch (error) {
    failAndExit(error);
    return;
  }
  onParentMessage(async (message) => {
    if (message.type === 'memory') sendToParent({ type: 'memory', ...measureMemory() });
    if (message.type === 'shutdown') {
      await server.close();
      process.exit(0);
    }
  });
  sendToParent({ type: 'ready', port: server.port });
}

/** Waits for `run`, runs the job once with its config, and reports the result. */
export function runJobChild<Config, Result>(
  job: (config: Config, progress: (message: string) => void) => Promise<Result>,
  prepare?: () => Promise<void>,
): void {
  const progress = (message: string): void => sendToParent({ type: 'progress', message });
  onParentMessage(async (message) => {
    if (message.type === 'run') {
      // The orchestrator builds the config from the same types this job declares.
      const result = await job(message.config as Config, progress);
      sendToParent({ type: 'result', result });
    }
    if (message.type === 'memory') sendToParent({ type: 'memory', ...measureMemory() });
    if (message.type === 'shutdown') process.exit(0);
  });
  (prepare ? prepare() : Promise.resolve())
    .then(() => sendToParent({ type: 'ready' }))
    .catch(failAndExit);
}
