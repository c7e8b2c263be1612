// What a state store reports to the metrics, as an interface: the stores depend on
// this, not on prom-client (ServerMetrics implements it).

/** The two Redis connections of an instance. */
export type StoreConnectionRole = 'command' | 'subscriber';

/** What a channel's resync after an outage found. */
export type ResyncResult = 'same' | 'pushed' | 'reset';

export interface StoreMetrics {
  /** A connection went down (false) or became ready (true). */
  storeConnection(role: StoreConnectionRole, up: boolean): void;
  /** A connection that was down is ready again. */
  storeReconnected(role: StoreConnectionRole): void;
  /** One channel compared with the store after an outage. */
  storeResynced(result: ResyncResult): void;
  /** A change arrived from the store's channel, as received (propagation lag from its `savedAt`). */
  channelEventReceived(message: Buffer): void;
}
