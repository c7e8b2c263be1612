// StateStore inside one process: the embedded default when REDIS_URL is unset. Same
// semantics as Redis (TTL, a revision counter that survives a delete, conditional saves,
// pub/sub) so the service and its tests cannot tell them apart. One instance only.
// Every save and delete bumps the user's counter, which lives twice the state's TTL, so
// revisions keep growing across deletes and expiry; a counter made anew (after twice
// the TTL without a save) gets a new random epoch.
import { randomBytes } from 'node:crypto';
import {
  type ChannelEvent,
  createChannelEvent,
  deletedMessageText,
  stateMessageText,
} from '../channel/channel-event.js';
import { StoreUnavailableError } from '../errors.js';
import { type Logger, silentLogger } from '../logger.js';
import { BucketMap, type BucketRate } from '../rate-limit/token-buckets.js';
import type { StateScope } from '../scope.js';
import type {
  ChannelHead,
  ChannelListener,
  DeleteOutcome,
  DeleteRequest,
  EpochListener,
  LoadedRecord,
  ResetListener,
  SaveOutcome,
  SaveRequest,
  StateStore,
  StoredRecord,
  StoreStatus,
  Subscription,
} from './state-store.js';
import { checkMemoryStoreOptions } from './store-options.js';
import { SubscriptionRegistry } from './subscription-registry.js';

export interface MemoryStateStoreOptions {
  /** Clock, injectable for TTL tests. @default Date.now */
  now?: () => number;
  /** How often expired entries are dropped (they are also ignored on read). @default 60000 */
  sweepIntervalMs?: number;
  /** @default silent */
  logger?: Logger;
}

interface MemoryRecord extends StoredRecord {
  timestamp: number;
  expiresAt: number;
}

interface MemoryCounter {
  revision: number;
  epoch: string;
  expiresAt: number;
}

/** The counter outlives the state by this factor, so revisions survive its expiry. */
const COUNTER_TTL_FACTOR = 2;

export class MemoryStateStore implements StateStore {
  readonly kind = 'memory';
  private readonly records = new Map<string, MemoryRecord>();
  private readonly counters = new Map<string, MemoryCounter>();
  private readonly registry: SubscriptionRegistry;
  /** The users' limit buckets, spent by the same rule as the Redis scripts' (token-buckets.ts). */
  private readonly buckets: BucketMap;
  private readonly now: () => number;
  private readonly sweepTimer: NodeJS.Timeout;
  private closed = false;

  constructor(options: MemoryStateStoreOptions = {}) {
    checkMemoryStoreOptions(options);
    this.now = options.now ?? Date.now;
    this.buckets = new BucketMap(this.now);
    this.registry = new SubscriptionRegistry(
      { open: async (scope) => this.head(scope), close: async () => {} },
      options.logger ?? silentLogger,
    );
    this.sweepTimer = setInterval(() => this.sweep(), options.sweepIntervalMs ?? 60_000);
    this.sweepTimer.unref();
  }

  async load(scope: StateScope, limit?: BucketRate): Promise<LoadedRecord | null> {
    this.assertOpen();
    this.spend(scope, limit);
    const record = this.liveRecord(scope);
    if (!record) return null;
    const { stateJson, revision, savedAt, version, origin } = record;
    return { stateJson, revision, savedAt, version, origin, epoch: this.head(scope).epoch };
  }

  async revision(scope: StateScope): Promise<number> {
    this.assertOpen();
    return this.currentRevision(scope);
  }

  async save(scope: StateScope, request: SaveRequest): Promise<SaveOutcome> {
    this.assertOpen();
    this.spend(scope, request.limit);
    const { revision: current, epoch: currentEpoch } = this.head(scope);
    if (
      request.ifMatch !== undefined &&
      (request.ifMatch !== current ||
        (request.ifMatchEpoch !== undefined && request.ifMatchEpoch !== currentEpoch))
    ) {
      return { status: 'stale', revision: current, epoch: currentEpoch };
    }
    const stored = this.liveRecord(scope);
    if (stored && !request.replaceNewer && request.timestamp < stored.timestamp) {
      const { stateJson, revision, savedAt, version, origin } = stored;
      return { status: 'conflict', current: { stateJson, revision, savedAt, version, origin } };
    }
    const revision = current + 1;
    const expiresAt = this.now() + request.ttlSeconds * 1000;
    const epoch = this.bump(scope, revision, request.ttlSeconds);
    this.records.set(scope.stateKey, {
      stateJson: request.stateJson,
      revision,
      savedAt: request.savedAt,
      version: request.version,
      origin: request.origin,
      timestamp: request.timestamp,
      expiresAt,
    });
    const text = stateMessageText(
      request.stateJson,
      revision,
      request.savedAt,
      request.origin,
      request.timestamp,
    );
    this.publish(scope.channel, createChannelEvent('state', revision, text), epoch);
    return { status: 'saved', revision, savedAt: request.savedAt, epoch };
  }

  async delete(scope: StateScope, request: DeleteRequest): Promise<DeleteOutcome> {
    this.assertOpen();
    this.spend(scope, request.limit);
    const current = this.head(scope);
    if (!this.liveRecord(scope)) return { deleted: false, ...current };
    const revision = current.revision + 1;
    this.records.delete(scope.stateKey);
    const epoch = this.bump(scope, revision, request.ttlSeconds);
    const text = deletedMessageText(revision, request.origin);
    this.publish(scope.channel, createChannelEvent('deleted', revision, text), epoch);
    return { deleted: true, revision, epoch };
  }

  async spendToken(scope: StateScope, limit: BucketRate): Promise<void> {
    this.assertOpen();
    this.spend(scope, limit);
  }

  subscribe(
    scope: StateScope,
    listener: ChannelListener,
    onReset?: ResetListener,
    onEpoch?: EpochListener,
  ): Promise<Subscription> {
    if (this.closed) return Promise.reject(new StoreUnavailableError('the store is closed'));
    return this.registry.add(scope, listener, onReset, onEpoch);
  }

  async ready(): Promise<boolean> {
    return !this.closed;
  }

  /** Always up while open: the state lives in this process. */
  status(): StoreStatus {
    return this.closed ? 'down' : 'up';
  }

  onStatus(_listener: (status: StoreStatus) => void): () => void {
    return () => {};
  }

  /** Entries held (states and revision counters), expired ones included until swept. */
  get size(): number {
    return this.records.size + this.counters.size;
  }

  async close(): Promise<void> {
    this.closed = true;
    clearInterval(this.sweepTimer);
    this.registry.clear();
  }

  /** First, as the Redis scripts do: a refused call changes nothing. */
  private spend(scope: StateScope, limit: BucketRate | undefined): void {
    if (limit !== undefined) this.buckets.take(scope.userBucketKey, limit);
  }

  private publish(channel: string, event: ChannelEvent, epoch: string): void {
    // Delivered after the save resolves, as a Redis PUBLISH reaches subscribers after EVALSHA.
    queueMicrotask(() => this.registry.deliver(channel, event, epoch));
  }

  /** Sets the counter to `revision` (keeping its epoch, or making one) for twice the TTL. */
  private bump(scope: StateScope, revision: number, ttlSeconds: number): string {
    const epoch = this.liveCounter(scope)?.epoch ?? randomBytes(6).toString('base64url');
    this.counters.set(scope.revisionKey, {
      revision,
      epoch,
      expiresAt: this.now() + ttlSeconds * 1000 * COUNTER_TTL_FACTOR,
    });
    return epoch;
  }

  private liveRecord(scope: StateScope): MemoryRecord | undefined {
    const record = this.records.get(scope.stateKey);
    if (record && record.expiresAt <= this.now()) {
      this.records.delete(scope.stateKey);
      return undefined;
    }
    return record;
  }

  private liveCounter(scope: StateScope): MemoryCounter | undefined {
    const counter = this.counters.get(scope.revisionKey);
    if (counter && counter.expiresAt <= this.now()) {
      this.counters.delete(scope.revisionKey);
      return undefined;
    }
    return counter;
  }

  private currentRevision(scope: StateScope): number {
    return this.head(scope).revision;
  }

  private head(scope: StateScope): ChannelHead {
    const counter = this.liveCounter(scope);
    const revision = Math.max(counter?.revision ?? 0, this.liveRecord(scope)?.revision ?? 0);
    return { revision, epoch: counter?.epoch ?? '' };
  }

  private sweep(): void {
    const now = this.now();
    for (const [key, record] of this.records) if (record.expiresAt <= now) this.records.delete(key);
    for (const [key, counter] of this.counters) {
      if (counter.expiresAt <= now) this.counters.delete(key);
    }
  }

  private assertOpen(): void {
    if (this.closed) throw new StoreUnavailableError('the store is closed');
  }
}
