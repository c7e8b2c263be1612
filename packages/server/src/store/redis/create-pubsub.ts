// Picks the store's pub/sub: sharded when the cluster asks for it (the default on a
// cluster), classic on one Redis or when a cluster is told to use classic.
import type { Cluster } from 'ioredis';
import type { ChannelPubSub } from './channel-pubsub.js';
import { ClassicPubSub } from './classic-pubsub.js';
import type { RedisClusterOptions } from './cluster-options.js';
import { pubsubOf, type RedisClient } from './connections.js';
import { ShardedPubSub } from './sharded-pubsub.js';

export function createChannelPubSub(
  subscriber: RedisClient,
  subscriberCluster: Cluster | undefined,
  cluster: RedisClusterOptions | undefined,
): ChannelPubSub {
  if (pubsubOf(cluster) === 'sharded' && subscriberCluster) {
    return new ShardedPubSub(subscriberCluster);
  }
  return new ClassicPubSub(subscriber);
}
