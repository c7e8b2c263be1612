// The two Redis connections of a store: one for commands, one dedicated subscriber. On
// one Redis both are plain clients (the subscriber a duplicate); on a cluster both are
// cluster clients, except a classic-pub/sub subscriber (one node is enough there). All
// fail fast while Redis is away (no offline queue, a command timeout) and reconnect with
// the store's backoff.
import { type Cluster, Redis, type RedisOptions } from 'ioredis';
import {
  type ClusterPubSub,
  createClassicSubscriber,
  createClusterClient,
  knownNodes,
  type RedisClusterOptions,
} from './cluster.js';

/** One Redis, or a cluster client: the calls the store makes exist on both. */
export type RedisClient = Redis | Cluster;

export interface ConnectionSettings {
  url?: string | undefined;
  cluster?: RedisClusterOptions | undefined;
  connectionName: string;
  commandTimeoutMs: number;
  connectTimeoutMs: number;
  /** Delay before the next reconnect attempt; null stops reconnecting (the store closes). */
  retryStrategy: (attempt: number) => number | null;
}

export interface RedisConnections {
  commands: RedisClient;
  subscriber: RedisClient;
  /** The command connection when it is a cluster client (watched for topology). */
  commandCluster: Cluster | undefined;
  /** The subscriber when it is a cluster client (sharded pub/sub). */
  subscriberCluster: Cluster | undefined;
}

/** Pub/sub flavour: always classic on one Redis; sharded by default on a cluster. */
export function pubsubOf(cluster: RedisClusterOptions | undefined): ClusterPubSub {
  return cluster ? (cluster.pubsub ?? 'sharded') : 'classic';
}

export function createConnections(settings: ConnectionSettings): RedisConnections {
  const connection = {
    // Fail fast while disconnected: a save answers 503 now instead of hanging.
    enableOfflineQueue: false,
    maxRetriesPerRequest: 0,
    commandTimeout: settings.commandTimeoutMs,
    connectTimeout: settings.connectTimeoutMs,
    // Channels are re-subscribed by hand so a resync can follow the SUBSCRIBE.
    autoResubscribe: false,
    // Off: each save is one EVALSHA whose 10 KB+ message goes as one Buffer. Batching
    // saves of a tick into one pipelined write tripled the server's GC time per save
    // (the batches are large strings) for no throughput gain (bench/README.md).
    enableAutoPipelining: false,
    retryStrategy: settings.retryStrategy,
  } satisfies RedisOptions;
  if (!settings.cluster) {
    const commands = new Redis(settings.url ?? '', {
      ...connection,
      connectionName: `${settings.connectionName}:cmd`,
    });
    const subscriber = commands.duplicate({ connectionName: `${settings.connectionName}:sub` });
    return { commands, subscriber, commandCluster: undefined, subscriberCluster: undefined };
  }
  const cluster = {
    commandTimeoutMs: settings.commandTimeoutMs,
    connectTimeoutMs: settings.connectTimeoutMs,
    retryStrategy: settings.retryStrategy,
  };
  const commands = createClusterClient(settings.cluster, {
    ...cluster,
    connectionName: `${settings.connectionName}:cmd`,
    sharded: false,
  });
  if (pubsubOf(settings.cluster) === 'sharded') {
    // Its own client, as on one Redis: ioredis keeps one subscriber connection per
    // primary and moves channels between them as slots move.
    const subscriber = createClusterClient(settings.cluster, {
      ...cluster,
      connectionName: `${settings.connectionName}:sub`,
      sharded: true,
    });
    return { commands, subscriber, commandCluster: commands, subscriberCluster: subscriber };
  }
  const subscriber = createClassicSubscriber(
    settings.cluster,
    { ...connection, connectionName: `${settings.connectionName}:sub` },
    () => knownNodes(commands),
  );
  return { commands, subscriber, commandCluster: commands, subscriberCluster: undefined };
}

/** QUIT when connected (replies in flight arrive), else drop the connection. */
export async function quit(client: RedisClient): Promise<void> {
  if (client.status === 'ready') {
    try {
      await client.quit();
      return;
    } catch {
      // Fall through: the connection is going away anyway.
    }
  }
  client.disconnect();
}
