// Starts a private Redis Cluster for one test file: N `redis-server --cluster-enabled yes`
// nodes on free ports (client and bus port each), joined by `redis-cli --cluster create`,
// ready once every node reports `cluster_state:ok` and agrees on the slot map. Nodes can
// be killed and started again (same port, same node id: their nodes.conf is kept), which
// is how the failover tests cause one. Needs redis-server and redis-cli 7 or newer.
import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { freePort } from './redis-server.js';

const run = promisify(execFile);

export interface TestClusterOptions {
  /** @default 3 */
  primaries?: number;
  /** Replicas per primary (0 or 1 make sense here). @default 0 */
  replicas?: number;
  /**
   * `cluster-node-timeout`: how long a primary may be silent before its replica takes
   * over. Short makes failover tests quick; too short flaps on a loaded machine. @default 2000
   */
  nodeTimeoutMs?: number;
}

export interface TestClusterNode {
  readonly port: number;
  /** True while its process runs. */
  readonly running: boolean;
}

export interface TestRedisCluster {
  /** Every node, primaries first as created (roles change after a failover). */
  readonly nodes: readonly TestClusterNode[];
  /** Seed nodes in the form the server takes (`REDIS_CLUSTER_NODES`). */
  readonly seeds: ReadonlyArray<{ host: string; port: number }>;
  /** `127.0.0.1:p1,127.0.0.1:p2,...` */
  readonly nodesEnv: string;
  /** Runs redis-cli against a running node (any node when `port` is omitted); its stdout. */
  cli(args: readonly string[], port?: number): Promise<string>;
  /** Port of the primary that owns `key`'s slot now. */
  primaryPortOf(key: string): Promise<number>;
  /** Slot ranges and the port of each one's primary, as the cluster reports them now. */
  slotRanges(): Promise<SlotRange[]>;
  /** The node id (`CLUSTER MYID`) of a running node. */
  nodeId(port: number): Promise<string>;
  /** Kills a node (SIGKILL by default: a crash). */
  stopNode(port: number, signal?: NodeJS.Signals): Promise<void>;
  /** Starts a stopped node again on its port, with its node id. */
  startNode(port: number): Promise<void>;
  /** Resolves once every running node says `cluster_state:ok` and they agree on the slot map. */
  waitUntilHealthy(timeoutMs?: number): Promise<void>;
  /** Kills every node and removes the working folder. Safe to call twice. */
  close(): Promise<void>;
}

interface NodeProcess extends TestClusterNode {
  port: number;
  busPort: number;
  running: boolean;
  child: ChildProcess | null;
}

const HOST = '127.0.0.1';

async function cliAt(port: number, args: readonly string[]): Promise<string> {
  const { stdout } = await run('redis-cli', ['-h', HOST, '-p', String(port), ...args], {
    timeout: 10_000,
  });
  return stdout;
}

async function waitUntil(
  what: string,
  check: () => Promise<boolean>,
  timeoutMs: number,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let lastError: unknown;
  while (Date.now() < deadline) {
    try {
      if (await check()) return;
    } catch (error) {
      lastError = error;
    }
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  throw new Error(`${what} within ${timeoutMs} ms${lastError ? ` (${String(lastError)})` : ''}`);
}

/** Two distinct free ports (client, cluster bus), unlike any already taken. */
async function portPair(taken: Set<number>): Promise<[number, number]> {
  const pick = async (): Promise<number> => {
    for (;;) {
      const port = await freePort();
      if (!taken.has(port)) {
        taken.add(port);
        return port;
      }
    }
  };
  return [await pick(), await pick()];
}

/** Throws a clear error unless redis-server and redis-cli 7+ are on PATH. */
async function checkRedisVersion(): Promise<void> {
  let text: string;
  try {
    text = (await run('redis-server', ['--version'])).stdout;
    await run('redis-cli', ['--version']);
  } catch (error) {
    throw new Error(
      `Redis Cluster tests need redis-server and redis-cli on PATH (Debian: redis-server, which brings redis-tools): ${String(error)}`,
    );
  }
  const major = Number(/v=(\d+)\./.exec(text)?.[1] ?? 0);
  if (major < 7) {
    throw new Error(
      `Redis Cluster tests need Redis 7 or newer (sharded pub/sub, --cluster-port); found: ${text.trim()}`,
    );
  }
}

export async function startTestRedisCluster(
  options: TestClusterOptions = {},
): Promise<TestRedisCluster> {
  await checkRedisVersion();
  const primaryCount = options.primaries ?? 3;
  const replicas = options.replicas ?? 0;
  const nodeTimeoutMs = options.nodeTimeoutMs ?? 2000;
  const dir = mkdtempSync(join(tmpdir(), 'hyvve-cluster-'));
  const taken = new Set<number>();
  const nodes: NodeProcess[] = [];
  for (let index = 0; index < primaryCount * (1 + replicas); index += 1) {
    const [port, busPort] = await portPair(taken);
    nodes.push({ port, busPort, running: false, child: null });
  }
  let closed = false;

  const nodeAt = (port: number): NodeProcess => {
    const node = nodes.find((candidate) => candidate.port === port);
    if (!node) throw new Error(`no test cluster node on port ${port}`);
    return node;
  };

  const startNode = async (port: number): Promise<void> => {
    const node = nodeAt(port);
    if (node.child) return;
    const child = spawn(
      'redis-server',
      [
        '--port',
        String(node.port),
        '--cluster-port',
        String(node.busPort),
        '--bind',
        HOST,
        '--cluster-enabled',
        'yes',
        '--cluster-config-file',
        `nodes-${node.port}.conf`,
        '--cluster-node-timeout',
        String(nodeTimeoutMs),
        '--save',
        '',
        '--appendonly',
        'no',
        '--dir',
        dir,
      ],
      { stdio: 'ignore' },
    );
    node.child = child;
    child.once('exit', () => {
      if (node.child === child) {
        node.child = null;
        node.running = false;
      }
    });
    await waitUntil(
      `redis-server on port ${port} did not start`,
      async () => (await cliAt(port, ['PING'])).trim() === 'PONG',
      5000,
    );
    node.running = true;
  };

  const stopNode = async (port: number, signal: NodeJS.Signals = 'SIGKILL'): Promise<void> => {
    const node = nodeAt(port);
    const child = node.child;
    if (!child) return;
    const exited = once(child, 'exit');
    child.kill(signal);
    await exited;
  };

  const anyRunning = (): NodeProcess => {
    const node = nodes.find((candidate) => candidate.running);
    if (!node) throw new Error('no test cluster node is running');
    return node;
  };

  const waitUntilHealthy = async (timeoutMs = 20_000): Promise<void> => {
    await waitUntil(
      'the test cluster did not become healthy',
      async () => {
        const running = nodes.filter((node) => node.running);
        const views = await Promise.all(
          running.map(async (node) => ({
            info: await cliAt(node.port, ['CLUSTER', 'INFO']),
            role: await cliAt(node.port, ['ROLE']),
          })),
        );
        if (!views.every((view) => view.info.includes('cluster_state:ok'))) return false;
        if (!views.every((view) => view.info.includes('cluster_slots_ok:16384'))) return false;
        // Replicas must be streaming from their primary, so a failover finds them current.
        if (views.some((view) => /^slave/.test(view.role) && !/\bconnected\b/.test(view.role))) {
          return false;
        }
        const owners = await Promise.all(running.map((node) => slotOwners(node.port)));
        return owners.every((owner) => owner === owners[0]);
      },
      timeoutMs,
    );
  };

  try {
    await Promise.all(nodes.map((node) => startNode(node.port)));
    await run(
      'redis-cli',
      [
        '--cluster',
        'create',
        ...nodes.map((node) => `${HOST}:${node.port}`),
        '--cluster-replicas',
        String(replicas),
        '--cluster-yes',
      ],
      { timeout: 30_000 },
    );
    await waitUntilHealthy();
  } catch (error) {
    await Promise.all(nodes.map((node) => stopNode(node.port)));
    rmSync(dir, { recursive: true, force: true });
    throw error;
  }

  return {
    nodes,
    seeds: nodes.map((node) => ({ host: HOST, port: node.port })),
    nodesEnv: nodes.map((node) => `${HOST}:${node.port}`).join(','),
    cli: (args, port) => cliAt(port ?? anyRunning().port, args),
    async primaryPortOf(key) {
      const slot = Number((await cliAt(anyRunning().port, ['CLUSTER', 'KEYSLOT', key])).trim());
      const ranges = await slotRanges(anyRunning().port);
      const owner = ranges.find((range) => slot >= range.from && slot <= range.to);
      if (!owner) throw new Error(`no node owns slot ${slot}`);
      return owner.port;
    },
    slotRanges: () => slotRanges(anyRunning().port),
    nodeId: async (port) => (await cliAt(port, ['CLUSTER', 'MYID'])).trim(),
    stopNode,
    startNode,
    waitUntilHealthy,
    async close() {
      if (closed) return;
      closed = true;
      await Promise.all(nodes.map((node) => stopNode(node.port)));
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

export interface SlotRange {
  from: number;
  to: number;
  port: number;
}

/** Slot ranges and their primaries' ports, from `CLUSTER SLOTS` as redis-cli prints it. */
async function slotRanges(port: number): Promise<SlotRange[]> {
  // --json (redis-cli 7) prints the reply as JSON: [[from, to, [host, port, id], ...], ...]
  const reply = JSON.parse(await cliAt(port, ['--json', 'CLUSTER', 'SLOTS'])) as Array<
    [number, number, [string, number, string]]
  >;
  return reply.map(([from, to, primary]) => ({ from, to, port: primary[1] }));
}

async function slotOwners(port: number): Promise<string> {
  const ranges = await slotRanges(port);
  return ranges
    .map((range) => `${range.from}-${range.to}:${range.port}`)
    .sort()
    .join(',');
}
