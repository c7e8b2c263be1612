// Dashboard state persistence for any workspace + user, over a StateStore. Knows nothing
// of HTTP: the Fastify plugin, the module-level functions and other servers call it.
// A save validates once, strips transient parts, serialises once, checks the size on
// that text and hands it to the store's single atomic step. On the common path (a
// complete state with idle transient parts, sent as canonical JSON) it copies nothing:
// the input is checked in place and its received text is stored as is.
import {
  type DashboardState,
  MAX_CLOCK_SKEW_MS,
  MAX_STATE_SIZE_BYTES,
  migrateDashboardState,
  STATE_TTL_SECONDS,
  STATE_VERSION,
  type StatePatchRequest,
  type StoredState,
  utf8BytesOverLimit,
} from '@hyvve/schema';
import {
  RateLimitedError,
  StaleRevisionError,
  StateConflictError,
  StateTooLargeError,
} from '../errors.js';
import { type Logger, silentLogger } from '../logger.js';
import type { BucketRate } from '../rate-limit/token-buckets.js';
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
import { KnownStates } from './known-states.js';
import { checkClock, checkOwner, persistable, serialise } from './persistable.js';
import type {
  DeleteResult,
  LimitOption,
  SaveOptions,
  SaveResult,
  StateListener,
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
  LimitOption,
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
  /** The newest state saved or read here per user who patched lately: a patch's base. */
  private readonly known = new KnownStates();
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
    let request: SaveRequest;
    try {
      request = this.saveRequest(scope, input, options);
    } catch (error) {
      // Refused before the store: the user's token is spent alone (one command).
      if (options.limit) await this.spendRefused(scope, options.limit);
      throw error;
    }
    return this.saveChecked(scope, request, options);
  }

  /** The request a save sends the store: validated, size- and clock-checked. */
  private saveRequest(scope: StateScope, input: unknown, options: SaveOptions): SaveRequest {
    const state = persistable(input);
    checkOwner(state, scope);
    const stateJson = serialise(state, state === input ? options.source : undefined);
    const size = utf8BytesOverLimit(stateJson, this.maxStateBytes);
    if (size !== null) throw new StateTooLargeError(size, this.maxStateBytes);
    const savedAt = this.now();
    checkClock(state.timestamp, savedAt, this.maxClockSkewMs);
    return {
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
      ...(options.limit === undefined ? {} : { limit: options.limit }),
    };
  }

  private async saveChecked(
    scope: StateScope,
    request: SaveRequest,
    options: SaveOptions,
  ): Promise<SaveResult> {
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
      // The user's token was spent by the first call.
      const { ifMatchEpoch: _epoch, limit: _limit, ...unconditional } = request;
      const replaced = await this.store.save(scope, {
        ...unconditional,
        ifMatch: outcome.current.revision,
        replaceNewer: true,
      });
      // Another save got in meanwhile: this one is then decided against it as any save is.
      outcome =
        replaced.status === 'stale' && options.ifMatch === undefined
          ? await this.store.save(scope, unlimited(request))
          : replaced;
    }
    switch (outcome.status) {
      case 'saved': {
        const { revision, savedAt, epoch } = outcome;
        this.logger.debug(
          { workspaceId: scope.workspaceId, userId: scope.userId, revision },
          'state saved',
        );
        const known = { stateJson: request.stateJson, revision, savedAt, epoch };
        this.known.remember(scope, known, request.savedAt);
        return { revision, savedAt, epoch };
      }
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
  async patch(
    owner: StateOwner,
    request: StatePatchRequest,
    options: PatchOptions & LimitOption = {},
  ): Promise<SaveResult> {
    const { limit, ...patchOptions } = options;
    // From now on this user's saves are remembered, for their next patch to start from.
    this.known.patching(toScope(owner), this.now());
    // The user's token goes with the first save only (its retries are the server's doing),
    // or alone when the patch fails before any save.
    let unspent = limit;
    try {
      return await applyPatch(
        {
          load: (target) => this.load(target),
          known: (target) => this.knownState(toScope(target)),
          save: (target, state, saveOptions) => {
            const spend = unspent;
            unspent = undefined;
            return this.save(target, state, {
              ...saveOptions,
              ...(spend === undefined ? {} : { limit: spend }),
            });
          },
          now: this.now,
        },
        owner,
        request,
        patchOptions,
      );
    } catch (error) {
      if (unspent && !(error instanceof RateLimitedError)) {
        await this.spendRefused(owner, unspent);
      }
      throw error;
    }
  }

  /**
   * Spends one token of the user's bucket for a request that reaches no store call (an
   * invalid one, a socket's renewal): RateLimitedError when it is empty.
   */
  spendToken(owner: StateOwner, limit: BucketRate): Promise<void> {
    return this.store.spendToken(toScope(owner), limit);
  }

  /**
   * The token of a request refused before any store call: an empty bucket makes it a
   * RateLimitedError instead; a store that is away only loses this count.
   */
  async spendRefused(owner: StateOwner, limit: BucketRate): Promise<void> {
    try {
      await this.store.spendToken(toScope(owner), limit);
    } catch (error) {
      if (error instanceof RateLimitedError) throw error;
    }
  }

  /** The stored state (migrated to the current version), or null when none is stored. */
  async load(owner: StateOwner, options: LimitOption = {}): Promise<StoredState | null> {
    const scope = toScope(owner);
    const record = await this.store.load(scope, options.limit);
    if (record?.version === STATE_VERSION) this.known.remember(scope, record, this.now());
    return record ? this.decode(scope, record) : null;
  }

  /** The newest state this instance saved or read for `scope` (no store call), if any. */
  private knownState(scope: StateScope): (StoredState & { epoch: string }) | undefined {
    const known = this.known.get(scope);
    if (known === undefined) return undefined;
    const { revision, savedAt, epoch } = known;
    return { state: JSON.parse(known.stateJson), revision, savedAt, epoch };
  }

  /**
   * The stored `{ state, revision, savedAt }` as JSON text, for HTTP: a current-version
   * state is spliced in as stored, never decoded and re-encoded.
   */
  async loadJson(
    owner: StateOwner,
    options: LimitOption = {},
  ): Promise<{ json: string; revision: number; epoch: string } | null> {
    const scope = toScope(owner);
    const record = await this.store.load(scope, options.limit);
    if (!record) return null;
    const { epoch } = record;
    if (record.version === STATE_VERSION) {
      this.known.remember(scope, record, this.now());
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
  async delete(
    owner: StateOwner,
    options: { origin?: string } & LimitOption = {},
  ): Promise<DeleteResult> {
    const scope = toScope(owner);
    this.known.forget(scope);
    const result = await this.store.delete(scope, {
      ttlSeconds: this.ttlSeconds,
      origin: options.origin ?? this.defaultOrigin,
      ...(options.limit === undefined ? {} : { limit: options.limit }),
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

/** A save request without the user's limit (a retry: the first call spent the token). */
function unlimited(request: SaveRequest): SaveRequest {
  const { limit: _limit, ...rest } = request;
  return rest;
}
