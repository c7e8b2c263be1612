// What the Redis store needs to know about Redis Cluster, apart from the store itself:
// the client options that fail fast, the subscriber of classic pub/sub, which node owns
// which key, and a fingerprint of the slot map so a failover or slot migration is noticed
// (and subscriptions caught up).
import { Cluster, Redis, type RedisOptions } from 'ioredis';
import { keySlot } from './key-slot.js';

// The options are in their own file, free of ioredis: the published declarations name
// them, and a consumer type-checking with skipLibCheck: false then never loads ioredis's.
export type { ClusterNode, ClusterPubSub, RedisClusterOptions } from './cluster-options.js';

import type { ClusterNode, RedisClusterOptions } from './cluster-options.js';

/** Settings of the store's cluster clients (commands; subscriptions when sharded). */
export interface ClusterClientSettings {
  connectionName: string;
  commandTimeoutMs: number;
  connectTimeoutMs: number;
  sharded: boolean;
  retryStrategy: (attempt: number) => number | null;
}

/** Delay between two tries of a command a failover or TRYAGAIN turned back, in ms. */
const REDIRECT_RETRY_DELAY_MS = 100;

/**
 * How often the slot map is read again without a reason. ioredis reads it on MOVED and on
 * a lost node, but not when a shard's subscriber was dropped by a slot migration and the
 * node it asked still had the old map; without a periodic read that subscriber would stay
 * behind for good. One CLUSTER SLOTS per client every 2 s costs Redis next to nothing.
 */
const SLOTS_REFRESH_INTERVAL_MS = 2000;

export function createClusterClient(
  options: RedisClusterOptions,
  settings: ClusterClientSettings,
): Cluster {
  return new Cluster(
    options.nodes.map((node) => ({ host: node.host, port: node.port })),
    {
      // Fail fast, as on one Redis: no queue while the cluster is away, and a command the
      // topology keeps turning back gives up after a few tries (~0.6 s) and answers 503.
      enableOfflineQueue: false,
      maxRedirections: options.maxRedirections ?? 6,
      retryDelayOnFailover: REDIRECT_RETRY_DELAY_MS,
      retryDelayOnTryAgain: REDIRECT_RETRY_DELAY_MS,
      retryDelayOnClusterDown: REDIRECT_RETRY_DELAY_MS,
      clusterRetryStrategy: settings.retryStrategy,
      slotsRefreshInterval: SLOTS_REFRESH_INTERVAL_MS,
      enableAutoPipelining: false,
      shardedSubscribers: settings.sharded,
      redisOptions: {
        connectionName: settings.connectionName,
        commandTimeout: settings.commandTimeoutMs,
        connectTimeout: settings.connectTimeoutMs,
        maxRetriesPerRequest: 0,
        // Channels are re-subscribed by the store, which then catches its sockets up.
        autoResubscribe: false,
        ...(options.username === undefined ? {} : { username: options.username }),
        ...(options.password === undefined ? {} : { password: options.password }),
      },
    },
  );
}

/**
 * The subscriber of classic pub/sub on a cluster: one plain connection to any node, since
 * the cluster bus copies every PUBLISH to every node. Unlike ioredis's own cluster
 * subscriber, which moves to another node and re-subscribes without a word when its
 * connection drops, this one emits `ready` after every reconnect like the subscriber on
 * one Redis, so the store re-subscribes, awaits it and catches its sockets up. Each
 * reconnect tries the next known node (`nodes()`, the seeds when none is known), so a
 * node that is gone for good is left behind. It steers ioredis by changing the
 * connection's `options.host`/`port` before the retry: the connector reads them on every
 * connect.
 */
export function createClassicSubscriber(
  options: RedisClusterOptions,
  redisOptions: Pick<
    RedisOptions,
    | 'enableOfflineQueue'
    | 'maxRetriesPerRequest'
    | 'commandTimeout'
    | 'connectTimeout'
    | 'autoResubscribe'
    | 'enableAutoPipelining'
    | 'connectionName'
  > & { retryStrategy: (attempt: number) => number | null },
  nodes: () => ClusterNode[],
): Redis {
  const candidates = (): ClusterNode[] => {
    const known = new Map<string, ClusterNode>();
    for (const node of [...nodes(), ...options.nodes]) known.set(`${node.host}:${node.port}`, node);
    return [...known.values()].sort((a, b) =>
      `${a.host}:${a.port}`.localeCompare(`${b.host}:${b.port}`),
    );
  };
  const first = options.nodes[0];
  if (!first) throw new TypeError('a Redis Cluster needs at least one seed node');
  let tried = 0;
  const subscriber: Redis = new Redis({
    ...redisOptions,
    host: first.host,
    port: first.port,
    ...(options.username === undefined ? {} : { username: options.username }),
    ...(options.password === undefined ? {} : { password: options.password }),
    retryStrategy: (attempt: number) => {
      const delay = redisOptions.retryStrategy(attempt);
      const all = candidates();
      tried += 1;
      const next = all[tried % all.length];
      if (delay !== null && next) {
        subscriber.options.host = next.host;
        subscriber.options.port = next.port;
      }
      return delay;
    },
  });
  return subscriber;
}

/** Host and port of every node a cluster client knows now (replicas too). */
export function knownNodes(cluster: Cluster): ClusterNode[] {
  return cluster
    .nodes('all')
    .flatMap((node) =>
      node.options.host && node.options.port
        ? [{ host: node.options.host, port: node.options.port }]
        : [],
    );
}

/**
 * Which primary owns which slots, as ranges (`0-5460=127.0.0.1:7000,...`): equal strings
 * mean the same topology. Compared after every slot-map refresh to notice a failover or a
 * migrated slot (ioredis refreshes on MOVED, on a lost node, and periodically).
 */
export function primaryFingerprint(slots: readonly (readonly string[] | undefined)[]): string {
  const ranges: string[] = [];
  let start = 0;
  let owner: string | undefined;
  for (let slot = 0; slot <= slots.length; slot += 1) {
    const current = slot < slots.length ? slots[slot]?.[0] : '\u0000end';
    if (current === owner) continue;
    if (slot > 0) ranges.push(`${start}-${slot - 1}=${owner ?? 'none'}`);
    start = slot;
    owner = current;
  }
  return ranges.join(',');
}

/** `items` grouped by the primary that owns each one's key (`unknown` while the map has none). */
export function groupByPrimary<T>(
  cluster: Cluster,
  items: readonly T[],
  keyOf: (item: T) => string,
): Map<string, T[]> {
  const groups = new Map<string, T[]>();
  for (const item of items) {
    const owner = cluster.slots[keySlot(keyOf(item))]?.[0] ?? 'unknown';
    const group = groups.get(owner);
    if (group) group.push(item);
    else groups.set(owner, [item]);
  }
  return groups;
}

/** The primaries' connections (empty until the slot map is known). */
export function primaries(cluster: Cluster): Redis[] {
  return cluster.nodes('master');
}
