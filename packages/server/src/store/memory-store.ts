// StateStore inside one process: the embedded default when REDIS_URL is unset. Same
// semantics as Redis (TTL, a revision counter that survives a delete, conditional saves,
// pub/sub) so the service and its tests cannot tell them apart. One instance only.
import { StoreUnavailableError } from '../errors.js';
import type { StateScope } from '../keys.js';
import { type Logger, silentLogger } from '../logger.js';
import {
  type ChannelEvent,
  createChannelEvent,
  deletedMessageText,
  stateMessageText,
} from './channel-event.js';
import type {
  ChannelListener,
  DeleteOutcome,
  DeleteRequest,
  SaveOutcome,
  SaveRequest,
  StateStore,
  StoredRecord,
  Subscription,
} from './state-store.js';
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
  expiresAt: number;
}

export class MemoryStateStore implements StateStore {
  readonly kind = 'memory';
  private readonly records = new Map<string, MemoryRecord>();
  private readonly counters = new Map<string, MemoryCounter>();
  private readonly registry: SubscriptionRegistry;
  private readonly now: () => number;
  private readonly sweepTimer: NodeJS.Timeout;
  private closed = false;

  constructor(options: MemoryStateStoreOptions = {}) {
    this.now = options.now ?? Date.now;
    this.registry = new SubscriptionRegistry(
      { open: async (scope) => this.currentRevision(scope), close: async () => {} },
      options.logger ?? silentLogger,
    );
    this.sweepTimer = setInterval(() => this.sweep(), options.sweepIntervalMs ?? 60_000);
    this.sweepTimer.unref();
  }

  async load(scope: StateScope): Promise<StoredRecord | null> {
    this.assertOpen();
    const record = this.liveRecord(scope);
    if (!record) return null;
    const { stateJson, revision, savedAt, version, origin } = record;
    return { stateJson, revision, savedAt, version, origin };
  }

  async revision(scope: StateScope): Promise<number> {
    this.assertOpen();
    return this.currentRevision(scope);
  }

  async save(scope: StateScope, request: SaveRequest): Promise<SaveOutcome> {
    this.assertOpen();
    const current = this.currentRevision(scope);
    if (request.ifMatch !== undefined && request.ifMatch !== current) {
      return { status: 'stale', revision: current };
    }
    const stored = this.liveRecord(scope);
    if (stored && !request.replaceNewer && request.timestamp < stored.timestamp) {
      const { stateJson, revision, savedAt, version, origin } = stored;
      return { status: 'conflict', current: { stateJson, revision, savedAt, version, origin } };
    }
    const revision = current + 1;
    const expiresAt = this.now() + request.ttlSeconds * 1000;
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
    this.publish(scope.channel, createChannelEvent('state', revision, text));
    return { status: 'saved', revision, savedAt: request.savedAt };
  }

  async delete(scope: StateScope, request: DeleteRequest): Promise<DeleteOutcome> {
    this.assertOpen();
    const current = this.currentRevision(scope);
    if (!this.liveRecord(scope)) return { deleted: false, revision: current };
    const revision = current + 1;
    this.records.delete(scope.stateKey);
    this.counters.set(scope.revisionKey, {
      revision,
      expiresAt: this.now() + request.ttlSeconds * 1000,
    });
    const text = deletedMessageText(revision, request.origin);
    this.publish(scope.channel, createChannelEvent('deleted', revision, text));
    return { deleted: true, revision };
  }

  subscribe(scope: StateScope, listener: ChannelListener): Promise<Subscription> {
    if (this.closed) return Promise.reject(new StoreUnavailableError('the store is closed'));
    return this.registry.add(scope, listener);
  }

  async ready(): Promise<boolean> {
    return !this.closed;
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

  private publish(channel: string, event: ChannelEvent): void {
    // Delivered after the save resolves, as a Redis PUBLISH reaches subscribers after EVALSHA.
    queueMicrotask(() => this.registry.deliver(channel, event));
  }

  private liveRecord(scope: StateScope): MemoryRecord | undefined {
    const record = this.records.get(scope.stateKey);
    if (record && record.expiresAt <= this.now()) {
      this.records.delete(scope.stateKey);
      return undefined;
    }
    return record;
  }

  private currentRevision(scope: StateScope): number {
    const counter = this.counters.get(scope.revisionKey);
    if (counter && counter.expiresAt <= this.now()) this.counters.delete(scope.revisionKey);
    const live = counter && counter.expiresAt > this.now() ? counter.revision : 0;
    return Math.max(live, this.liveRecord(scope)?.revision ?? 0);
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
