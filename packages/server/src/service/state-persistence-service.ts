// Dashboard state persistence for any workspace + user, over a StateStore. Knows nothing
// of HTTP: the Fastify plugin, the module-level functions and other servers call it.
// A save validates once, strips transient parts, serialises once, checks the size on
// that text and hands it to the store's single atomic step. On the common path (a
// complete state with idle transient parts, sent as canonical JSON) it copies nothing:
// the input is checked in place and its received text is stored as is.
import {
  canonicalJsonEnd,
  type DashboardState,
  isCompleteDashboardState,
  isPersistableAsIs,
  MAX_CLOCK_SKEW_MS,
  MAX_STATE_SIZE_BYTES,
  migrateDashboardState,
  STATE_TTL_SECONDS,
  STATE_VERSION,
  type StatePatchRequest,
  type StoredState,
  toPersistableState,
  utf8BytesOverLimit,
  validateDashboardState,
} from '@hyvve/schema';
import {
  ClockAheadError,
  InvalidStateError,
  StaleRevisionError,
  StateConflictError,
  StateTooLargeError,
} from '../errors.js';
import { type Logger, silentLogger } from '../logger.js';
import { type StateOwner, type StateScope, toScope } from '../scope.js';
import type {
  ChannelListener,
  EpochListener,
  ResetListener,
  SaveRequest,
  StateStore,
  StoredRecord,
  StoreStatus,
  Subscription,
} from '../store/state-store.js';
import { applyPatch, type PatchOptions } from './apply-patch.js';
import type {
  DeleteResult,
  SaveOptions,
  SaveResult,
  StateListener,
  StateSource,
  StateSubscription,
} from './service-types.js';

export interface StatePersistenceServiceOptions {
  store: StateStore;
  /** Time to live of a stored state, refreshed by every save. @default STATE_TTL_SECONDS (86400) */
  ttlSeconds?: number;
  /** Largest persistable state, in UTF-8 bytes of its JSON. @default MAX_STATE_SIZE_BYTES (1 MiB) */
  maxStateBytes?: number;
  /** Origin of saves and deletes that do not name one. @default 'server' */
  defaultOrigin?: string;
  /** @default silent */
  logger?: Logger;
  /** Clock for `savedAt`. @default Date.now */
  now?: () => number;
  /**
   * A saved `state.timestamp` may be at most this far ahead of `now()`: newer wins by
   * timestamp, so one device with a clock in the future would otherwise win against
   * every later save until its state is deleted or expires. @default MAX_CLOCK_SKEW_MS (5 min)
   */
  maxClockSkewMs?: number;
}

export type {
  DeleteResult,
  SaveOptions,
  SaveResult,
  StateListener,
  StateSource,
  StateSubscription,
} from './service-types.js';

import { checkServiceOptions } from './service-options.js';

export class StatePersistenceService {
  readonly ttlSeconds: number;
  readonly maxStateBytes: number;
  readonly maxClockSkewMs: number;
  /** The store it persists in (the plugin reads whether it is Redis, to keep limits there). */
  readonly store: StateStore;
  private readonly defaultOrigin: string;
  private readonly logger: Logger;
  private readonly now: () => number;
  /** Subscriptions made through `subscribe`, so `unsubscribe(owner)` can end them. */
  private readonly listeners = new Map<string, Map<StateListener, Subscription>>();

  constructor(options: StatePersistenceServiceOptions) {
    checkServiceOptions(options);
    this.store = options.store;
    this.ttlSeconds = options.ttlSeconds ?? STATE_TTL_SECONDS;
    this.maxStateBytes = options.maxStateBytes ?? MAX_STATE_SIZE_BYTES;
    this.defaultOrigin = options.defaultOrigin ?? 'server';
    this.logger = options.logger ?? silentLogger;
    this.now = options.now ?? Date.now;
    this.maxClockSkewMs = options.maxClockSkewMs ?? MAX_CLOCK_SKEW_MS;
  }

  /** The server clock: what `savedAt` and the clock-skew check read. */
  currentTime(): number {
    return this.now();
  }

  /** `redis` or `memory`. */
  get storeKind(): StateStore['kind'] {
    return this.store.kind;
  }

  /**
   * Validates, strips transient parts and stores the state atomically (newer wins,
   * optional If-Match), then publishes it. Throws InvalidStateError, StateTooLargeError,
   * StaleRevisionError, StateConflictError or StoreUnavailableError.
   */
  async save(owner: StateOwner, input: unknown, options: SaveOptions = {}): Promise<SaveResult> {
    const scope = toScope(owner);
    const state = this.persistable(input);
    checkOwner(state, scope);
    const stateJson = serialise(state, state === input ? options.source : undefined);
    const size = utf8BytesOverLimit(stateJson, this.maxStateBytes);
    if (size !== null) throw new StateTooLargeError(size, this.maxStateBytes);
    const savedAt = this.now();
    this.checkClock(state.timestamp, savedAt);
    const request: SaveRequest = {
      stateJson,
      state,
      timestamp: state.timestamp,
      version: state.version,
      savedAt,
      origin: options.origin ?? this.defaultOrigin,
      ttlSeconds: this.ttlSeconds,
      ...(options.ifMatch === undefined ? {} : { ifMatch: options.ifMatch }),
      ...(options.ifMatch === undefined || options.ifMatchEpoch === undefined
        ? {}
        : { ifMatchEpoch: options.ifMatchEpoch }),
    };
    let outcome = await this.store.save(scope, request);
    if (outcome.status === 'conflict' && !this.decode(scope, outcome.current)) {
      // The newer stored state cannot be read, and every read treats it as absent (GET
      // answers 404), so it must not block saves either: replace it, unless another
      // save got in since (If-Match on the unreadable one's revision).
      this.logger.warn(
        {
          workspaceId: scope.workspaceId,
          userId: scope.userId,
          revision: outcome.current.revision,
        },
        'replacing a newer stored state that cannot be read',
      );
      const { ifMatchEpoch: _epoch, ...unconditional } = request;
      const replaced = await this.store.save(scope, {
        ...unconditional,
        ifMatch: outcome.current.revision,
        replaceNewer: true,
      });
      // Another save got in meanwhile: this one is then decided against it as any save is.
      outcome =
        replaced.status === 'stale' && options.ifMatch === undefined
          ? await this.store.save(scope, request)
          : replaced;
    }
    switch (outcome.status) {
      case 'saved':
        this.logger.debug(
          {
            workspaceId: scope.workspaceId,
            userId: scope.userId,
            revision: outcome.revision,
            chars: stateJson.length,
          },
          'state saved',
        );
        return { revision: outcome.revision, savedAt: outcome.savedAt, epoch: outcome.epoch };
      case 'stale':
        throw new StaleRevisionError(options.ifMatch ?? -1, outcome.revision);
      case 'conflict': {
        const current = this.decode(scope, outcome.current);
        // Only after the replace above lost to yet another unreadable save: a store fault.
        if (!current) throw new Error('the stored newer state cannot be read (after a retry)');
        throw new StateConflictError(current);
      }
    }
  }

  /**
   * Applies a JSON Merge Patch or JSON Patch to the stored state and saves the result
   * atomically against concurrent saves (If-Match on the revision it was applied to,
   * retried on a newer one); published like any save. See `applyPatch` for the errors.
   */
  patch(
    owner: StateOwner,
    request: StatePatchRequest,
    options: PatchOptions = {},
  ): Promise<SaveResult> {
    return applyPatch(
      {
        load: (target) => this.load(target),
        save: (target, state, saveOptions) => this.save(target, state, saveOptions),
        now: this.now,
      },
      owner,
      request,
      options,
    );
  }

  /** The stored state (migrated to the current version), or null when none is stored. */
  async load(owner: StateOwner): Promise<StoredState | null> {
    const scope = toScope(owner);
    const record = await this.store.load(scope);
    return record ? this.decode(scope, record) : null;
  }

  /**
   * The stored `{ state, revision, savedAt }` as JSON text, for HTTP: a current-version
   * state is spliced in as stored, never decoded and re-encoded.
   */
  async loadJson(
    owner: StateOwner,
  ): Promise<{ json: string; revision: number; epoch: string } | null> {
    const scope = toScope(owner);
    const record = await this.store.load(scope);
    if (!record) return null;
    const { epoch } = record;
    if (record.version === STATE_VERSION) {
      const json = `{"state":${record.stateJson},"revision":${record.revision},"savedAt":${record.savedAt},"epoch":${JSON.stringify(epoch)}}`;
      return { json, revision: record.revision, epoch };
    }
    const decoded = this.decode(scope, record);
    return decoded
      ? { json: JSON.stringify({ ...decoded, epoch }), revision: decoded.revision, epoch }
      : null;
  }

  /** The current revision (it survives a delete); 0 when nothing is known. */
  revision(owner: StateOwner): Promise<number> {
    return this.store.revision(toScope(owner));
  }

  /** Removes the state; publishes `deleted` with a bumped revision if something was stored. */
  async delete(owner: StateOwner, options: { origin?: string } = {}): Promise<DeleteResult> {
    const scope = toScope(owner);
    const result = await this.store.delete(scope, {
      ttlSeconds: this.ttlSeconds,
      origin: options.origin ?? this.defaultOrigin,
    });
    this.logger.debug(
      { workspaceId: scope.workspaceId, userId: scope.userId, revision: result.revision },
      result.deleted ? 'state deleted' : 'delete: nothing was stored',
    );
    return result;
  }

  /** Calls `listener` with every change of the user's state (saves and deletes). */
  async subscribe(owner: StateOwner, listener: StateListener): Promise<StateSubscription> {
    const scope = toScope(owner);
    const subscription = await this.store.subscribe(scope, (event) => listener(event.message()));
    let byListener = this.listeners.get(scope.channel);
    if (!byListener) {
      byListener = new Map();
      this.listeners.set(scope.channel, byListener);
    }
    byListener.set(listener, subscription);
    const forget = (): void => {
      if (byListener.get(listener) === subscription) byListener.delete(listener);
      if (byListener.size === 0 && this.listeners.get(scope.channel) === byListener) {
        this.listeners.delete(scope.channel);
      }
    };
    return {
      revision: subscription.revision,
      unsubscribe: async () => {
        forget();
        await subscription.unsubscribe();
      },
    };
  }

  /** Ends `listener`'s subscription to the user's state, or all of them without a listener. */
  async unsubscribe(owner: StateOwner, listener?: StateListener): Promise<void> {
    const scope = toScope(owner);
    const byListener = this.listeners.get(scope.channel);
    if (!byListener) return;
    const ending = listener ? [listener] : [...byListener.keys()];
    const subscriptions: Subscription[] = [];
    for (const key of ending) {
      const subscription = byListener.get(key);
      if (subscription) subscriptions.push(subscription);
      byListener.delete(key);
    }
    if (byListener.size === 0) this.listeners.delete(scope.channel);
    await Promise.all(subscriptions.map((subscription) => subscription.unsubscribe()));
  }

  /**
   * Raw channel events (the published JSON text) for transports that forward them as is,
   * like the WebSocket route: one store subscription per user channel is shared.
   */
  subscribeChannel(
    owner: StateOwner,
    listener: ChannelListener,
    onReset?: ResetListener,
    onEpoch?: EpochListener,
  ): Promise<Subscription> {
    return this.store.subscribe(toScope(owner), listener, onReset, onEpoch);
  }

  /** True when the store answers. */
  ready(): Promise<boolean> {
    return this.store.ready();
  }

  /** `up` while the store is reachable and caught up, else `down` (no round trip). */
  storeStatus(): StoreStatus {
    return this.store.status();
  }

  /** Calls `listener` whenever `storeStatus()` changes; returns the unsubscribe. */
  onStoreStatus(listener: (status: StoreStatus) => void): () => void {
    return this.store.onStatus(listener);
  }

  /** Closes the store. Safe to call twice. */
  async close(): Promise<void> {
    this.listeners.clear();
    await this.store.close();
  }

  /** Refuses a timestamp from a clock too far ahead (it would win every later comparison). */
  private checkClock(timestamp: number, now: number): void {
    const ahead = timestamp - now;
    if (ahead > this.maxClockSkewMs) {
      throw new ClockAheadError(
        `timestamp: ${timestamp} is ${Math.round(ahead)} ms ahead of the server clock ` +
          `(at most ${this.maxClockSkewMs} ms allowed; check the device clock)`,
        now,
      );
    }
  }

  /** The state as it will be stored: validated, defaults applied, transient parts reset. */
  private persistable(input: unknown): DashboardState {
    // Checked in place first: Zod's validated copy is garbage on the hot path, so it is
    // built only when defaults must be applied or keys stripped, or to name a failure.
    let state: DashboardState;
    if (isCompleteDashboardState(input)) {
      state = input;
    } else {
      const validated = validateDashboardState(input);
      if (!validated.success) {
        throw new InvalidStateError(validated.error.path, validated.error.message);
      }
      state = validated.data;
    }
    return isPersistableAsIs(state) ? state : toPersistableState(state);
  }

  private decode(scope: StateScope, record: StoredRecord): StoredState | null {
    const { revision, savedAt } = record;
    if (record.version === STATE_VERSION) {
      // Validated when it was saved; decoding it again would only cost time.
      const state: DashboardState = JSON.parse(record.stateJson);
      return { state, revision, savedAt };
    }
    let raw: unknown;
    try {
      raw = JSON.parse(record.stateJson);
    } catch {
      raw = undefined;
    }
    const migrated = migrateDashboardState(raw);
    if (!migrated.success) {
      this.logger.warn(
        {
          workspaceId: scope.workspaceId,
          userId: scope.userId,
          revision,
          reason: migrated.error.message,
        },
        'stored state cannot be read or migrated; treating it as absent',
      );
      return null;
    }
    return { state: migrated.data, revision, savedAt };
  }
}

/**
 * A state may leave out `workspaceId` and `userId`, but may not name another workspace
 * or user than the one it is saved for: the stored copy would lie about its owner.
 */
function checkOwner(state: DashboardState, scope: StateScope): void {
  if (state.workspaceId !== undefined && state.workspaceId !== scope.workspaceId) {
    throw new InvalidStateError(
      'workspaceId',
      'workspaceId: names another workspace than the one it is saved for',
    );
  }
  if (state.userId !== undefined && state.userId !== scope.userId) {
    throw new InvalidStateError(
      'userId',
      'userId: names another user than the one it is saved for',
    );
  }
}

/** The state's JSON: the received text when it is exactly canonical, else serialised. */
function serialise(state: DashboardState, source: StateSource | undefined): string {
  if (source) {
    const end = canonicalJsonEnd(state, source.text, source.start);
    if (end > 0) return source.text.slice(source.start, end);
  }
  return JSON.stringify(state);
}
