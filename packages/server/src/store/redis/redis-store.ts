// StateStore on Redis (ioredis): one command connection and one dedicated subscriber
// connection per instance. Commands fail fast while Redis is away (no offline queue,
// a command timeout), both connections reconnect with backoff, and after the subscriber
// comes back every channel is re-subscribed and checked for changes the gap swallowed.
// On a Redis Cluster (`cluster` option) both are cluster clients instead: scripts run on
// the node owning the user's slot (EVAL when that node lacks them), a resync reads per
// node, pub/sub is sharded (SPUBLISH/SSUBSCRIBE) unless asked for classic, and a changed
// topology (failover, node restart, slot migration) re-subscribes and catches up too.
// This file holds the store's methods; its parts: connections.ts (the two clients),
// create-pubsub.ts (classic-pubsub.ts or sharded-pubsub.ts), script-runner.ts (Lua calls),
// replies.ts (script replies), catch-up.ts (resubscribe and resync), store-status.ts
// (`up`/`down`), cluster-signals.ts (topology).
import {
  deletedOriginField,
  parseChannelEventBytes,
  stateMessageParts,
} from '../../channel/channel-event.js';
import {
  type ChannelPatchParts,
  isPublishedPatch,
  parsePublishedPatch,
  publishedPatchTail,
} from '../../channel/channel-patch.js';
import { RateLimitedError, StoreUnavailableError } from '../../errors.js';
import { errorMessage, type Logger, silentLogger } from '../../logger.js';
import type { StoreMetrics } from '../../metrics/store-metrics.js';
import type { RedisTarget } from '../../options.js';
import type { BucketRate } from '../../rate-limit/token-buckets.js';
import type { StateScope } from '../../scope.js';
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
  StoreStatus,
  Subscription,
} from '../state-store.js';
import { checkRedisStoreOptions } from '../store-options.js';
import { SubscriptionRegistry } from '../subscription-registry.js';
import { ChannelCatchUp } from './catch-up.js';
import type { ChannelPubSub } from './channel-pubsub.js';
import { watchCommandCluster, watchSubscriberCluster } from './cluster-signals.js';
import { createConnections, quit, type RedisClient } from './connections.js';
import { createChannelPubSub } from './create-pubsub.js';
import { type RedisPersistence, readRedisPersistence } from './persistence.js';
import { DEFAULTS, type RedisStateStoreOptions } from './redis-store-options.js';
import {
  parseReadReply,
  parseSaveReply,
  throwIfLimited,
  toEpoch,
  toNumber,
  unexpectedReply,
} from './replies.js';
import { ScriptRunner } from './script-runner.js';
import { DELETE_SCRIPT, READ_SCRIPT, SAVE_SCRIPT, TAKE_TOKEN_SCRIPT } from './scripts.js';
import { StoreStatusWatch } from './store-status.js';
import { afterRevisionOffset } from './stored-message.js';
import { ThrottledLog } from './throttled-log.js';

export type { RedisStateStoreOptions } from './redis-store-options.js';
export { parseCounter } from './replies.js';

/** Channels whose last revision is remembered to guess a save's revision; cleared past this. */
const MAX_KNOWN_REVISIONS = 100_000;

export class RedisStateStore implements StateStore {
  readonly kind: 'redis' | 'redis-cluster';
  /** The Redis it keeps states in (the plugin keeps its limits there too). */
  readonly target: RedisTarget;
  /** Prefix of its connection names in `CLIENT LIST`. */
  readonly connectionName: string;
  private readonly redis: RedisClient;
  private readonly subscriber: RedisClient;
  /** Joins and leaves channels: classic or sharded pub/sub (channel-pubsub.ts). */
  private readonly pubsub: ChannelPubSub;
  private readonly scripts: ScriptRunner;
  /** Re-subscribing and comparing channels after the subscriber was away (catch-up.ts). */
  private readonly catchUp: ChannelCatchUp;
  /** Errors of one node (or role) repeat on every retry while it is down: logged sparingly. */
  private readonly throttledLog: ThrottledLog;
  private readonly registry: SubscriptionRegistry;
  private readonly logger: Logger;
  private readonly metrics: StoreMetrics | undefined;
  private readonly maxReconnectDelayMs: number;
  /** Channels whose head is being read to learn their epoch (one read at a time each). */
  private readonly epochReads = new Set<string>();
  private closing: Promise<void> | undefined;
  /**
   * Last revision seen per channel (saves, deletes, channel messages). A save builds its
   * stored message with the next one, so Redis stores and publishes it without a copy;
   * a stale entry only costs that copy (the script puts the right revision in).
   */
  private readonly knownRevisions = new Map<string, number>();
  /**
   * Per channel, the `patch` a saver published just before its state (channel-patch.ts),
   * until that state arrives: the next message of the channel takes it or drops it.
   */
  private readonly publishedPatches = new Map<string, ChannelPatchParts>();
  /** `up` or `down`, and who hears of a change (store-status.ts). */
  private readonly statusWatch: StoreStatusWatch;

  constructor(options: RedisStateStoreOptions) {
    const settings = { ...DEFAULTS, ...options };
    this.logger = options.logger ?? silentLogger;
    this.metrics = options.metrics;
    this.throttledLog = new ThrottledLog(this.logger);
    this.maxReconnectDelayMs = settings.maxReconnectDelayMs;
    checkRedisStoreOptions(options);
    const url = options.redisUrl ?? options.url;
    this.target = options.cluster ? { cluster: options.cluster } : { url: url ?? '' };
    this.connectionName = settings.connectionName;
    this.kind = options.cluster ? 'redis-cluster' : 'redis';
    const connections = createConnections({
      url,
      cluster: options.cluster,
      connectionName: settings.connectionName,
      commandTimeoutMs: settings.commandTimeoutMs,
      connectTimeoutMs: settings.connectTimeoutMs,
      retryStrategy: (attempt: number) => this.reconnectDelay(attempt),
    });
    this.redis = connections.commands;
    this.subscriber = connections.subscriber;
    const signals = {
      throttledLog: this.throttledLog,
      loadScripts: () => this.scripts.loadScripts(),
      onTopologyChange: (reason: string) => this.catchUp.onTopologyChange(reason),
    };
    if (connections.commandCluster) {
      watchCommandCluster(connections.commandCluster, signals);
    }
    if (connections.subscriberCluster) {
      watchSubscriberCluster(connections.subscriberCluster, signals);
    }
    this.pubsub = createChannelPubSub(
      connections.subscriber,
      connections.subscriberCluster,
      options.cluster,
    );
    this.scripts = new ScriptRunner(this.redis, this.logger, this.throttledLog);
    this.registry = new SubscriptionRegistry(
      {
        open: (scope) => this.openChannel(scope),
        close: (scope) => this.closeChannel(scope),
        // A revision that went back may be the first save after Redis lost its data.
        check: (scope) => this.catchUp.check(scope),
        // A channel opened before its counter existed: its messages name no epoch.
        readEpoch: (scope) => void this.readEpoch(scope),
      },
      this.logger,
    );
    this.catchUp = new ChannelCatchUp({
      registry: this.registry,
      pubsub: this.pubsub,
      readStored: (scopes) => this.scripts.readStored(scopes),
      reconnectDelay: (attempt) => this.reconnectDelay(attempt),
      isClosing: () => this.closing !== undefined,
      isSubscriberReady: () => this.subscriber.status === 'ready',
      onCaughtUp: () => this.statusWatch.caughtUp(),
      logger: this.logger,
      metrics: this.metrics,
    });
    this.statusWatch = new StoreStatusWatch(
      () => this.redis.status === 'ready' && this.subscriber.status === 'ready',
      () => this.closing !== undefined,
      this.logger,
      this.throttledLog,
      this.metrics,
    );
    this.statusWatch.watch(this.redis, 'command', () => this.onCommandReady());
    this.statusWatch.watch(this.subscriber, 'subscriber', () =>
      this.catchUp.resubscribeAll('reconnect'),
    );
    // The Buffer variant: ioredis then skips decoding each message to a string (up to 1 MB),
    // and the bytes go to the sockets as received. Sharded messages arrive as `smessage`.
    this.subscriber.on(this.pubsub.messageEvent, (channel: Buffer, raw: Buffer) =>
      this.onMessage(channel.toString(), raw),
    );
  }

  /** Resolves true once both connections are ready, false if that takes longer than `timeoutMs`. */
  async waitUntilReady(timeoutMs: number): Promise<boolean> {
    const deadline = Date.now() + timeoutMs;
    while (Date.now() < deadline) {
      if (this.redis.status === 'ready' && this.subscriber.status === 'ready') return true;
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    return false;
  }

  /** Whether this Redis keeps data across a restart; rejects when CONFIG GET is refused. */
  persistence(): Promise<RedisPersistence> {
    return readRedisPersistence(this.redis);
  }

  async load(scope: StateScope, limit?: BucketRate): Promise<LoadedRecord | null> {
    const read = parseReadReply(
      await this.scripts.run(READ_SCRIPT, scope, ['full', ...limitArguments(limit)]),
    );
    if (read.kind === 'unreadable') {
      this.logger.warn(
        { workspaceId: scope.workspaceId, userId: scope.userId },
        'stored state is not a state message; treating it as absent until the next save',
      );
    }
    return read.record ? { ...read.record, epoch: read.epoch } : null;
  }

  async revision(scope: StateScope): Promise<number> {
    return (await this.head(scope)).revision;
  }

  /** The counter's revision (or the stored state's, if higher) and epoch. */
  async head(scope: StateScope): Promise<ChannelHead> {
    const read = parseReadReply(await this.scripts.run(READ_SCRIPT, scope, ['head']));
    return { revision: Math.max(read.counter, read.revision), epoch: read.epoch };
  }

  // The save path is the hot one: one EVALSHA, no extra awaits around it.
  save(scope: StateScope, request: SaveRequest): Promise<SaveOutcome> {
    const expected =
      request.ifMatch === undefined
        ? (this.knownRevisions.get(scope.channel) ?? 0) + 1
        : request.ifMatch + 1;
    // The message is joined once, into the command's text (evalsha-command.ts).
    const parts = stateMessageParts(
      request.stateJson,
      expected,
      request.savedAt,
      request.origin,
      request.timestamp,
    );
    const patchTail = this.publishedPatchTail(scope, request);
    return this.scripts
      .run(SAVE_SCRIPT, scope, [
        { parts },
        String(expected),
        String(afterRevisionOffset(expected)),
        String(request.timestamp),
        String(request.ttlSeconds),
        request.ifMatch === undefined ? '' : String(request.ifMatch),
        scope.channel,
        request.replaceNewer ? '1' : '',
        request.ifMatchEpoch ?? '',
        this.pubsub.publishCommand,
        patchTail,
        ...limitArguments(request.limit),
      ])
      .then((reply) => {
        const outcome = parseSaveReply(reply, request.savedAt);
        if (outcome.replacedUnreadable) {
          this.logger.warn(
            { workspaceId: scope.workspaceId, userId: scope.userId, revision: outcome.revision },
            'a save replaced a stored value that was not a state message',
          );
        }
        this.remember(scope.channel, outcome.revision);
        return outcome.result;
      });
  }

  /**
   * The `patch` to publish with a save (see `publishedPatchTail`), when this instance holds
   * the channel's previous state as a patch base; '' otherwise, or when diffing fails
   * (every instance then diffs for itself, as it would for a foreign publisher's state).
   */
  private publishedPatchTail(scope: StateScope, request: SaveRequest): string {
    if (request.state === undefined) return '';
    const base = this.registry.patchBase(scope.channel);
    if (base === undefined) return '';
    try {
      return publishedPatchTail(base, {
        state: request.state,
        stateJson: request.stateJson,
        savedAt: request.savedAt,
        origin: request.origin,
      });
    } catch (error) {
      this.logger.debug(
        { workspaceId: scope.workspaceId, userId: scope.userId, err: errorMessage(error) },
        'no patch published with this save: diffing it against the base failed',
      );
      return '';
    }
  }

  async delete(scope: StateScope, request: DeleteRequest): Promise<DeleteOutcome> {
    const reply = await this.scripts.run(DELETE_SCRIPT, scope, [
      String(request.ttlSeconds),
      scope.channel,
      deletedOriginField(request.origin),
      this.pubsub.publishCommand,
      ...limitArguments(request.limit),
    ]);
    if (!Array.isArray(reply)) throw unexpectedReply('delete', reply);
    throwIfLimited(reply);
    const revision = toNumber(reply[1]);
    this.remember(scope.channel, revision);
    return { deleted: reply[0] === 1, revision, epoch: toEpoch(reply[2]) };
  }

  async spendToken(scope: StateScope, limit: BucketRate): Promise<void> {
    const wait = toNumber(
      await this.scripts.runOn(TAKE_TOKEN_SCRIPT, [scope.userBucketKey], limitArguments(limit)),
    );
    if (wait > 0) throw new RateLimitedError(wait);
  }

  subscribe(
    scope: StateScope,
    listener: ChannelListener,
    onReset?: ResetListener,
    onEpoch?: EpochListener,
  ): Promise<Subscription> {
    if (this.closing) return Promise.reject(new StoreUnavailableError('the store is closed'));
    return this.registry.add(scope, listener, onReset, onEpoch);
  }

  status(): StoreStatus {
    return this.statusWatch.status();
  }

  onStatus(listener: (status: StoreStatus) => void): () => void {
    return this.statusWatch.onStatus(listener);
  }

  async ready(): Promise<boolean> {
    if (this.closing || this.subscriber.status !== 'ready') return false;
    try {
      await this.redis.ping();
      return true;
    } catch {
      return false;
    }
  }

  close(): Promise<void> {
    this.closing ??= (async () => {
      this.catchUp.stop();
      this.registry.clear();
      this.statusWatch.clear();
      await Promise.all([quit(this.redis), quit(this.subscriber)]);
    })();
    return this.closing;
  }

  private remember(channel: string, revision: number): void {
    if (this.knownRevisions.size >= MAX_KNOWN_REVISIONS) this.knownRevisions.clear();
    this.knownRevisions.set(channel, revision);
  }

  private reconnectDelay(attempt: number): number | null {
    if (this.closing) return null;
    const backoff = Math.min(50 * 2 ** Math.min(attempt, 10), this.maxReconnectDelayMs);
    return backoff + Math.floor(Math.random() * 50);
  }

  private onCommandReady(): void {
    this.scripts.loadScripts();
    this.catchUp.resumeResync();
  }

  private onMessage(channel: string, raw: Buffer): void {
    if (isPublishedPatch(raw)) {
      const patch = parsePublishedPatch(raw);
      if (patch) this.publishedPatches.set(channel, patch);
      else this.logger.warn({ channel }, 'ignored a malformed published patch');
      return;
    }
    const event = parseChannelEventBytes(raw);
    const published = this.publishedPatches.get(channel);
    if (published !== undefined) {
      this.publishedPatches.delete(channel);
      if (event && published.revision === event.revision) event.publishedPatch = published;
    }
    if (!event) {
      this.logger.warn({ channel }, 'ignored a malformed channel message');
      return;
    }
    this.remember(channel, event.revision);
    this.metrics?.channelEventReceived(raw);
    this.registry.deliver(channel, event);
  }

  /**
   * Reads the head of a channel whose epoch is unknown and lets the registry learn it
   * (READ_SCRIPT of the head: no state copied). A failed read is retried by the channel's
   * next change, which asks again while the epoch is unknown.
   */
  private async readEpoch(scope: StateScope): Promise<void> {
    if (this.closing || this.epochReads.has(scope.channel)) return;
    this.epochReads.add(scope.channel);
    try {
      this.registry.learnEpoch(scope.channel, await this.head(scope));
    } catch (error) {
      this.logger.debug(
        { workspaceId: scope.workspaceId, userId: scope.userId, err: errorMessage(error) },
        "reading a channel's epoch failed; its next change tries again",
      );
    } finally {
      this.epochReads.delete(scope.channel);
    }
  }

  private async openChannel(scope: StateScope): Promise<ChannelHead> {
    await this.scripts.command('subscribe', () => this.pubsub.subscribe(scope.channel));
    try {
      return await this.head(scope);
    } catch (error) {
      await this.closeChannel(scope).catch(() => {});
      throw error;
    }
  }

  private async closeChannel(scope: StateScope): Promise<void> {
    this.publishedPatches.delete(scope.channel);
    if (this.closing) return;
    await this.pubsub.unsubscribe(scope.channel);
  }
}

/** The last two arguments of a script that spends the user's limit: rate and burst, or ''. */
function limitArguments(limit: BucketRate | undefined): [string, string] {
  return limit === undefined ? ['', ''] : [String(limit.perSecond), String(limit.burst)];
}
