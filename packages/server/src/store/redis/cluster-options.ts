// A Redis Cluster as the options name it: seed nodes, credentials, pub/sub mode. Kept
// apart from cluster.ts (which builds ioredis clients) so that the declarations a
// consumer loads never import ioredis (whose own declarations need untyped packages).
/** A seed node of a cluster (any node will do: the client reads the slot map from it). */
export interface ClusterNode {
  host: string;
  port: number;
}

/** How changes travel between instances on a cluster. */
export type ClusterPubSub = 'sharded' | 'classic';

export interface RedisClusterOptions {
  /** Seed nodes (`REDIS_CLUSTER_NODES`). */
  nodes: readonly ClusterNode[];
  /** ACL user and password of every node (`REDIS_USERNAME` / `REDIS_PASSWORD`). */
  username?: string;
  password?: string;
  /**
   * `sharded`: SPUBLISH / SSUBSCRIBE, each message stays on the shard that owns the user's
   * slot. `classic`: PUBLISH / SUBSCRIBE, which the cluster bus copies to every node.
   * @default 'sharded'
   */
  pubsub?: ClusterPubSub;
  /** Redirections (MOVED, ASK, TRYAGAIN, lost node) a command follows before it fails. @default 6 */
  maxRedirections?: number;
}
