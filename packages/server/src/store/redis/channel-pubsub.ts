// How the store's subscriber joins and leaves channels: classic pub/sub (SUBSCRIBE) or
// sharded pub/sub on a cluster (SSUBSCRIBE), each in its own file (create-pubsub.ts picks
// one). The store and its catch-up only see this interface.
import type { StateScope } from '../../scope.js';

export interface ChannelPubSub {
  /** The scripts' publish command (ARGV): SPUBLISH reaches only the shard of the channel. */
  readonly publishCommand: 'PUBLISH' | 'SPUBLISH';
  /** The subscriber's event carrying a message as Buffers (channel, message). */
  readonly messageEvent: 'messageBuffer' | 'smessageBuffer';
  /**
   * Whether channels that failed to re-subscribe are retried on their own (a cluster: one
   * shard may stay down), rather than all at the connection's next `ready` (one Redis).
   */
  readonly retriesPerChannel: boolean;
  subscribe(channel: string): Promise<void>;
  unsubscribe(channel: string): Promise<void>;
  /** Subscribes `scopes`' channels again; says which failed (and the first error). */
  resubscribe(scopes: StateScope[]): Promise<{ failed: StateScope[]; error?: unknown }>;
}
