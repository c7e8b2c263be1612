// Whether the Redis store is `up`: both connections ready and every channel compared with
// the store since the subscriber last came back. Watches the connections (logging an
// outage once, counting it in the metrics) and tells listeners each change once.
import { errorMessage, type Logger } from '../../logger.js';
import type { StoreMetrics } from '../../metrics/store-metrics.js';
import type { StoreStatus } from '../state-store.js';
import type { RedisClient } from './connections.js';
import type { ThrottledLog } from './throttled-log.js';

export type ConnectionRole = 'command' | 'subscriber';

export class StoreStatusWatch {
  /** Connections that are down, so an outage is logged once, not on every retry. */
  private readonly down = new Set<ConnectionRole>();
  /**
   * The subscriber connection came back (or first came up) and its channels have not
   * been compared with the store yet: the store is not `up` until they have.
   */
  private catchingUp = false;
  private lastStatus: StoreStatus = 'down';
  private readonly listeners = new Set<(status: StoreStatus) => void>();

  constructor(
    private readonly connectionsReady: () => boolean,
    private readonly isClosing: () => boolean,
    private readonly logger: Logger,
    private readonly throttledLog: ThrottledLog,
    private readonly metrics: StoreMetrics | undefined,
  ) {}

  status(): StoreStatus {
    return this.lastStatus;
  }

  onStatus(listener: (status: StoreStatus) => void): () => void {
    this.listeners.add(listener);
    return () => {
      this.listeners.delete(listener);
    };
  }

  /** Every channel is subscribed again and compared with the store. */
  caughtUp(): void {
    this.catchingUp = false;
    this.refresh();
  }

  clear(): void {
    this.listeners.clear();
  }

  /** Follows one connection; `onReady` runs each time it is (again) ready. */
  watch(client: RedisClient, role: ConnectionRole, onReady: () => void): void {
    this.metrics?.storeConnection(role, false);
    // Without an `error` listener ioredis errors would crash the process.
    client.on('error', (error: Error) => {
      const context = { role, err: error.message };
      if (this.down.has(role)) this.logger.debug(context, 'redis connection error');
      else this.throttledLog.warn(role, context, 'redis connection error');
    });
    client.on('close', () => {
      this.metrics?.storeConnection(role, false);
      if (this.isClosing()) return;
      // The subscriber's channels must be compared with the store once it is back.
      if (role === 'subscriber') this.catchingUp = true;
      if (!this.down.has(role)) {
        this.down.add(role);
        this.logger.warn({ role }, 'redis connection lost; reconnecting');
      }
      this.refresh();
    });
    client.on('ready', () => {
      this.metrics?.storeConnection(role, true);
      this.throttledLog.recovered(role);
      if (this.down.delete(role)) {
        this.logger.info({ role }, 'redis connection restored');
        this.metrics?.storeReconnected(role);
      }
      if (role === 'subscriber') this.catchingUp = true;
      onReady();
      this.refresh();
    });
  }

  /**
   * `up` when both connections are ready and every channel has been compared with the
   * store since the subscriber last came back; listeners hear each change once.
   */
  refresh(): void {
    const up = !this.isClosing() && !this.catchingUp && this.connectionsReady();
    const status: StoreStatus = up ? 'up' : 'down';
    if (status === this.lastStatus) return;
    this.lastStatus = status;
    this.logger.info({ status }, 'state store status changed');
    for (const listener of this.listeners) {
      try {
        listener(status);
      } catch (error) {
        this.logger.error({ err: errorMessage(error) }, 'store status listener threw');
      }
    }
  }
}
