// Classic pub/sub (SUBSCRIBE/PUBLISH): one Redis, or a cluster asked for it (every node
// then forwards every message). Channels are re-subscribed all at once.
import type { StateScope } from '../../scope.js';
import type { ChannelPubSub } from './channel-pubsub.js';
import type { RedisClient } from './connections.js';

export class ClassicPubSub implements ChannelPubSub {
  readonly publishCommand = 'PUBLISH';
  readonly messageEvent = 'messageBuffer';

  /** The connection's next `ready` retries them all (its subscriber is one connection). */
  readonly retriesPerChannel = false;

  constructor(private readonly subscriber: RedisClient) {}

  async subscribe(channel: string): Promise<void> {
    await this.subscriber.subscribe(channel);
  }

  async unsubscribe(channel: string): Promise<void> {
    await this.subscriber.unsubscribe(channel);
  }

  /** SUBSCRIBE all of them again: all or none. */
  async resubscribe(scopes: StateScope[]): Promise<{ failed: StateScope[]; error?: unknown }> {
    if (scopes.length === 0) return { failed: [] };
    try {
      await this.subscriber.subscribe(...scopes.map((scope) => scope.channel));
      return { failed: [] };
    } catch (error) {
      return { failed: scopes, error };
    }
  }
}
