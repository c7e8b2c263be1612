// Sharded pub/sub on a Redis Cluster (SSUBSCRIBE/SPUBLISH): a message reaches only the
// shard owning the channel's slot. ioredis keeps one subscriber connection per primary.
import type { Cluster } from 'ioredis';
import type { StateScope } from '../../scope.js';
import type { ChannelPubSub } from './channel-pubsub.js';

export class ShardedPubSub implements ChannelPubSub {
  readonly publishCommand = 'SPUBLISH';
  readonly messageEvent = 'smessageBuffer';
  readonly retriesPerChannel = true;

  constructor(private readonly subscriber: Cluster) {}

  async subscribe(channel: string): Promise<void> {
    await this.subscriber.ssubscribe(channel);
  }

  async unsubscribe(channel: string): Promise<void> {
    await this.subscriber.sunsubscribe(channel);
  }

  /**
   * SSUBSCRIBE each on its own shard (ioredis takes several only when they share a slot).
   * A channel is SUNSUBSCRIBEd first, because ioredis keeps a list per slot that a second
   * SSUBSCRIBE would grow; the instant without it is covered by the catch-up that follows.
   */
  async resubscribe(scopes: StateScope[]): Promise<{ failed: StateScope[]; error?: unknown }> {
    if (scopes.length === 0) return { failed: [] };
    const results = await Promise.allSettled(
      scopes.map(async (scope) => {
        await this.subscriber.sunsubscribe(scope.channel);
        await this.subscriber.ssubscribe(scope.channel);
      }),
    );
    const failed = scopes.filter((_scope, index) => results[index]?.status === 'rejected');
    const rejection = results.find((result) => result.status === 'rejected');
    return { failed, error: rejection?.reason };
  }
}
