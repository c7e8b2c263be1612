// Catching up after the subscriber was away: channels are subscribed again (after a
// reconnect, a failover, a migrated slot), then compared with the store so each listener
// gets the newest change the gap swallowed, or a reset when Redis lost its data. One run
// of each at a time; failures are retried with the store's backoff.
import {
  type ChannelEvent,
  createChannelEvent,
  deletedMessageText,
  stateMessageText,
} from '../../channel/channel-event.js';
import { errorMessage, type Logger } from '../../logger.js';
import type { StoreMetrics } from '../../metrics/store-metrics.js';
import type { StateScope } from '../../scope.js';
import type { ChannelHead } from '../state-store.js';
import type { SubscriptionRegistry } from '../subscription-registry.js';
import type { ChannelPubSub } from './channel-pubsub.js';
import { parseReadReply } from './replies.js';

/** Quiet time after a topology signal before re-subscribing (ioredis emits several per change). */
const TOPOLOGY_SETTLE_MS = 50;

/** What a re-subscribed channel is compared against. */
interface ChannelSnapshot {
  scope: StateScope;
  head: ChannelHead;
  event: ChannelEvent | null;
}

export interface CatchUpDeps {
  registry: SubscriptionRegistry;
  pubsub: ChannelPubSub;
  /** READ_SCRIPT replies of `scopes`, in their order. */
  readStored(scopes: StateScope[]): Promise<unknown[]>;
  /** Delay of the next retry; null when the store is closing. */
  reconnectDelay(attempt: number): number | null;
  isClosing(): boolean;
  isSubscriberReady(): boolean;
  /** Nothing is pending any more: every channel is subscribed and compared. */
  onCaughtUp(): void;
  logger: Logger;
  metrics: StoreMetrics | undefined;
}

export class ChannelCatchUp {
  /** Channels to compare with the store once the command connection answers. */
  private readonly pendingResync = new Map<string, StateScope>();
  /** Channels to subscribe again (then compare) after a reconnect or a topology change. */
  private readonly pendingResubscribe = new Map<string, StateScope>();
  private resyncRunning: Promise<void> | undefined;
  private resyncTimer: NodeJS.Timeout | undefined;
  private resyncAttempts = 0;
  private resubscribing: Promise<void> | undefined;
  private resubscribeAttempts = 0;
  private topologyTimer: NodeJS.Timeout | undefined;

  constructor(private readonly deps: CatchUpDeps) {}

  /** Compares one channel with the store (its revision went back: Redis may have lost data). */
  check(scope: StateScope): void {
    this.pendingResync.set(scope.channel, scope);
    void this.resync();
  }

  /** The command connection is back: compare what waited for it. */
  resumeResync(): void {
    if (this.pendingResync.size > 0) void this.resync();
  }

  /**
   * Subscribes every channel again, awaits it, then compares them with the store so each
   * socket gets the newest change it missed (a reconnect, a failover, a migrated slot: a
   * sharded publish can be lost between a key's migration and the slot's hand-over, and
   * this catch-up covers that window).
   */
  resubscribeAll(reason: string): Promise<void> {
    for (const scope of this.deps.registry.scopes()) {
      this.pendingResubscribe.set(scope.channel, scope);
    }
    return this.runResubscribe(reason);
  }

  /** A cluster topology signal: re-subscribe once the signals settle. */
  onTopologyChange(reason: string): void {
    if (this.deps.isClosing() || this.deps.registry.scopes().length === 0) return;
    this.deps.logger.debug({ reason }, 'redis cluster topology changed; re-subscribing');
    clearTimeout(this.topologyTimer);
    this.topologyTimer = setTimeout(() => void this.resubscribeAll(reason), TOPOLOGY_SETTLE_MS);
    this.topologyTimer.unref();
  }

  /** Whether every channel is subscribed and compared, with the subscriber connected. */
  isCaughtUp(): boolean {
    return (
      this.pendingResync.size === 0 &&
      this.pendingResubscribe.size === 0 &&
      this.deps.isSubscriberReady()
    );
  }

  stop(): void {
    clearTimeout(this.resyncTimer);
    clearTimeout(this.topologyTimer);
    this.pendingResync.clear();
    this.pendingResubscribe.clear();
  }

  /** Compares pending channels with the store; pushes what moved; retries on failure. */
  private resync(): Promise<void> {
    this.resyncRunning ??= this.runResync()
      .catch((error: unknown) => {
        this.deps.logger.error({ err: errorMessage(error) }, 'resync after reconnect failed');
      })
      .finally(() => {
        this.resyncRunning = undefined;
      });
    return this.resyncRunning;
  }

  private async runResync(): Promise<void> {
    const { registry } = this.deps;
    while (this.pendingResync.size > 0 && !this.deps.isClosing()) {
      const scopes = [...this.pendingResync.values()].filter((scope) =>
        registry.has(scope.channel),
      );
      this.pendingResync.clear();
      if (scopes.length === 0) continue;
      let snapshots: ChannelSnapshot[];
      try {
        snapshots = await this.readSnapshots(scopes);
      } catch (error) {
        for (const scope of scopes) this.pendingResync.set(scope.channel, scope);
        this.scheduleResync(error);
        return;
      }
      this.resyncAttempts = 0;
      for (const snapshot of snapshots) this.applySnapshot(snapshot);
    }
    this.caughtUp();
  }

  private applySnapshot({ scope, head, event }: ChannelSnapshot): void {
    const { registry, logger } = this.deps;
    const delivered = registry.revisionOf(scope.channel);
    if (delivered === undefined) return;
    // Nothing stored and nothing newer than what listeners saw: no `deleted` to announce.
    const push = event?.type === 'state' || head.revision > delivered ? event : null;
    const deliveredEpoch = registry.epochOf(scope.channel);
    const result = registry.reconcile(scope.channel, head, push);
    this.deps.metrics?.storeResynced(result);
    const context = {
      workspaceId: scope.workspaceId,
      userId: scope.userId,
      revision: head.revision,
      epoch: head.epoch,
      delivered,
      deliveredEpoch,
    };
    if (result === 'pushed') {
      logger.info(context, 'pushed a change missed while the subscriber was away');
    } else if (result === 'reset') {
      logger.warn(context, 'revision counter was reset (Redis lost data): channel reset');
      // A message dropped between the snapshot and the reset would be lost: look again,
      // once (the second look finds the same head, unless yet another save got in).
      if (head.revision < delivered) this.pendingResync.set(scope.channel, scope);
    }
  }

  private scheduleResync(error: unknown): void {
    this.resyncAttempts += 1;
    const delay = this.deps.reconnectDelay(this.resyncAttempts);
    if (delay === null) return;
    this.deps.logger.warn(
      { err: errorMessage(error), retryInMs: delay },
      'resync after reconnect failed; retrying',
    );
    clearTimeout(this.resyncTimer);
    this.resyncTimer = setTimeout(() => void this.resync(), delay);
    this.resyncTimer.unref();
  }

  private async readSnapshots(scopes: StateScope[]): Promise<ChannelSnapshot[]> {
    const replies = await this.deps.readStored(scopes);
    return scopes.map((scope, index) => {
      const { record, counter, epoch, text: storedText } = parseReadReply(replies[index]);
      if (record) {
        // A stored message is what was published; a legacy hash's is rebuilt.
        const text =
          storedText ??
          stateMessageText(record.stateJson, record.revision, record.savedAt, record.origin);
        return {
          scope,
          head: { revision: record.revision, epoch },
          event: createChannelEvent('state', record.revision, text),
        };
      }
      return {
        scope,
        head: { revision: counter, epoch },
        event: createChannelEvent('deleted', counter, deletedMessageText(counter)),
      };
    });
  }

  /**
   * One run at a time over the pending channels; a signal during a run adds to them. On a
   * cluster a channel whose shard is still down is retried with backoff on its own, so
   * the channels of healthy shards are caught up at once rather than after the outage.
   */
  private runResubscribe(reason: string): Promise<void> {
    const { registry, logger, pubsub } = this.deps;
    this.resubscribing ??= (async () => {
      while (this.pendingResubscribe.size > 0 && !this.deps.isClosing()) {
        const scopes = [...this.pendingResubscribe.values()].filter((scope) =>
          registry.has(scope.channel),
        );
        this.pendingResubscribe.clear();
        const { failed, error } = await pubsub.resubscribe(scopes);
        const done = scopes.filter((scope) => !failed.includes(scope));
        if (done.length > 0) {
          logger.info({ channels: done.length, reason }, 're-subscribed channels');
          for (const scope of done) this.pendingResync.set(scope.channel, scope);
          await this.resync();
        }
        if (failed.length > 0) {
          logger.warn(
            { err: errorMessage(error), channels: failed.length, reason },
            're-subscribing channels failed',
          );
          // One Redis: the connection dropped again and its next `ready` retries them all.
          // A cluster has no such single event (one shard may stay down): retry these.
          if (pubsub.retriesPerChannel) {
            for (const scope of failed) this.pendingResubscribe.set(scope.channel, scope);
            this.retryResubscribe(reason);
          }
          return;
        }
        this.resubscribeAttempts = 0;
      }
      this.caughtUp();
    })().finally(() => {
      this.resubscribing = undefined;
    });
    return this.resubscribing;
  }

  private retryResubscribe(reason: string): void {
    this.resubscribeAttempts += 1;
    const delay = this.deps.reconnectDelay(this.resubscribeAttempts);
    if (delay === null) return;
    clearTimeout(this.topologyTimer);
    this.topologyTimer = setTimeout(() => void this.runResubscribe(reason), delay);
    this.topologyTimer.unref();
  }

  /**
   * Every channel is subscribed again and compared with the store (nothing pending): the
   * store may be `up` again. (After a cluster topology change the store stays `up`
   * meanwhile: only a lost subscriber connection sets the store catching up.)
   */
  private caughtUp(): void {
    if (this.isCaughtUp()) this.deps.onCaughtUp();
  }
}
