// StateStore on Redis (ioredis): one command connection and one dedicated subscriber
// connection per instance. Commands fail fast while Redis is away (no offline queue,
// a command timeout), both connections reconnect with backoff, and after the subscriber
// comes back every channel is re-subscribed and checked for changes the gap swallowed.
// On a Redis Cluster (`cluster` option) both are cluster clients instead: scripts run on
// the node owning the user's slot (EVAL when that node lacks them), a resync reads per
// node, pub/sub is sharded (SPUBLISH/SSUBSCRIBE) unless asked for classic, and a changed
// topology (failover, node restart, slot migration) re-subscribes and catches up too.
import { Cluster, Redis, type RedisOptions } from 'ioredis';
import {
  type ChannelEvent,
  createChannelEvent,
  deletedMessageText,
  deletedOriginField,
  parseChannelEventBytes,
  stateMessageParts,
  stateMessageText,
} from '../../channel/channel-event.js';
import {
  type ChannelPatchParts,
  isPublishedPatch,
  parsePublishedPatch,
  publishedPatchTail,
} from '../../channel/channel-patch.js';
import { StoreUnavailableError } from '../../errors.js';
import { errorMessage, type Logger, silentLogger } from '../../logger.js';
import type { StoreMetrics } from '../../metrics/store-metrics.js';
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
  StoredRecord,
  StoreStatus,
  Subscription,
} from '../state-store.js';
import { SubscriptionRegistry } from '../subscription-registry.js';
import {
  type ClusterPubSub,
  createClassicSubscriber,
  createClusterClient,
  groupByPrimary,
  knownNodes,
  primaries,
  primaryFingerprint,
  type RedisClusterOptions,
} from './cluster.js';
import { EvalshaCommand, type WireArgument } from './evalsha-command.js';
import { IterationCork } from './iteration-cork.js';
import { type RedisPersistence, readRedisPersistence } from './persistence.js';
import { DELETE_SCRIPT, type LuaScript, READ_SCRIPT, SAVE_SCRIPT } from './scripts.js';
import { afterRevisionOffset, parseStoredMessage, storedRevision } from './stored-message.js';
import { ThrottledLog } from './throttled-log.js';

export interface RedisStateStoreOptions {
  /** `redis://[user:password@]host:port[/db]`: one Redis. Give this or `cluster`. */
  url?: string;
  /** A Redis Cluster (seed nodes, credentials, pub/sub mode) instead of `url`. */
  cluster?: RedisClusterOptions;
  /** Prefix of the connection names in `CLIENT LIST` (`<name>:cmd`, `<name>:sub`). @default 'hyvve' */
  connectionName?: string;
  /** A command without a reply after this long fails with StoreUnavailableError. @default 1500 */
  commandTimeoutMs?: number;
  /** @default 2000 */
  connectTimeoutMs?: number;
  /** Upper bound of the reconnect backoff (it starts at 50 ms and doubles). @default 2000 */
  maxReconnectDelayMs?: number;
  /** @default silent */
  logger?: Logger;
  /** Told of connections lost and restored, resyncs and arriving changes. @default none */
  metrics?: StoreMetrics;
}

const DEFAULTS = {
  connectionName: 'hyvve',
  commandTimeoutMs: 1500,
  connectTimeoutMs: 2000,
  maxReconnectDelayMs: 2000,
} as const;

/** Channels whose last revision is remembered to guess a save's revision; cleared past this. */
const MAX_KNOWN_REVISIONS = 100_000;

/** Quiet time after a topology signal before re-subscribing (ioredis emits several per change). */
const TOPOLOGY_SETTLE_MS = 50;

/** One Redis, or a cluster client: the calls the store makes exist on both. */
type RedisClient = Redis | Cluster;

/** Reads the snapshot a re-subscribed channel is compared against. */
interface ChannelSnapshot {
  scope: StateScope;
  head: ChannelHead;
  event: ChannelEvent | null;
}

export class RedisStateStore implements StateStore {
  readonly kind: 'redis' | 'redis-cluster';
  private readonly redis: RedisClient;
  private readonly subscriber: RedisClient;
  /** Pub/sub flavour: always classic on one Redis; sharded by default on a cluster. */
  private readonly pubsub: ClusterPubSub;
  /** The scripts' publish command (ARGV): SPUBLISH reaches only the shard of the channel. */
  private readonly publishCommand: 'PUBLISH' | 'SPUBLISH';
  /** Errors of one node (or role) repeat on every retry while it is down: logged sparingly. */
  private readonly throttledLog: ThrottledLog;
  /** Slot map last seen by the subscriber (cluster only), to notice topology changes. */
  private topology = '';
  private topologyTimer: NodeJS.Timeout | undefined;
  /** Channels to subscribe again (then catch up) after a reconnect or a topology change. */
  private readonly pendingResubscribe = new Map<string, StateScope>();
  private resubscribing: Promise<void> | undefined;
  private resubscribeAttempts = 0;
  private readonly registry: SubscriptionRegistry;
  private readonly logger: Logger;
  private readonly metrics: StoreMetrics | undefined;
  private readonly maxReconnectDelayMs: number;
  /** Channels to compare with the store once the command connection answers. */
  private readonly pendingResync = new Map<string, StateScope>();
  /** Channels whose head is being read to learn their epoch (one read at a time each). */
  private readonly epochReads = new Set<string>();
  private resyncRunning: Promise<void> | undefined;
  private resyncTimer: NodeJS.Timeout | undefined;
  private resyncAttempts = 0;
  /** Connections that are down, so an outage is logged once, not on every retry. */
  private readonly down = new Set<'command' | 'subscriber'>();
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
  /** Scripts sent in one event-loop iteration leave in one write (iteration-cork.ts). */
  private readonly cork = new IterationCork();
  /**
   * The subscriber connection came back (or first came up) and its channels have not
   * been compared with the store yet: the store is not `up` until they have.
   */
  private catchingUp = false;
  private lastStatus: StoreStatus = 'down';
  private readonly statusListeners = new Set<(status: StoreStatus) => void>();

  constructor(options: RedisStateStoreOptions) {
    const settings = { ...DEFAULTS, ...options };
    this.logger = options.logger ?? silentLogger;
    this.metrics = options.metrics;
    this.throttledLog = new ThrottledLog(this.logger);
    this.maxReconnectDelayMs = settings.maxReconnectDelayMs;
    if ((options.url === undefined) === (options.cluster === undefined)) {
      throw new TypeError('RedisStateStore needs either `url` (one Redis) or `cluster`');
    }
    this.kind = options.cluster ? 'redis-cluster' : 'redis';
    this.pubsub = options.cluster ? (options.cluster.pubsub ?? 'sharded') : 'classic';
    this.publishCommand = this.pubsub === 'sharded' ? 'SPUBLISH' : 'PUBLISH';
    const connection = {
      // Fail fast while disconnected: a save answers 503 now instead of hanging.
      enableOfflineQueue: false,
      maxRetriesPerRequest: 0,
      commandTimeout: settings.commandTimeoutMs,
      connectTimeout: settings.connectTimeoutMs,
      // Channels are re-subscribed by hand so a resync can follow the SUBSCRIBE.
      autoResubscribe: false,
      // Off: each save is one EVALSHA whose 10 KB+ message goes as one Buffer. Batching
      // saves of a tick into one pipelined write tripled the server's GC time per save
      // (the batches are large strings) for no throughput gain (bench/README.md).
      enableAutoPipelining: false,
      retryStrategy: (attempt: number) => this.reconnectDelay(attempt),
    } satisfies RedisOptions;
    if (options.cluster) {
      const cluster = {
        commandTimeoutMs: settings.commandTimeoutMs,
        connectTimeoutMs: settings.connectTimeoutMs,
        retryStrategy: (attempt: number) => this.reconnectDelay(attempt),
      };
      const commands = createClusterClient(options.cluster, {
        ...cluster,
        connectionName: `${settings.connectionName}:cmd`,
        sharded: false,
      });
      this.redis = commands;
      this.watchCluster(commands, 'command');
      if (this.pubsub === 'sharded') {
        // Its own client, as on one Redis: ioredis keeps one subscriber connection per
        // primary and moves channels between them as slots move.
        const subscriber = createClusterClient(options.cluster, {
          ...cluster,
          connectionName: `${settings.connectionName}:sub`,
          sharded: true,
        });
        this.subscriber = subscriber;
        this.watchCluster(subscriber, 'subscriber');
      } else {
        this.subscriber = createClassicSubscriber(
          options.cluster,
          { ...connection, connectionName: `${settings.connectionName}:sub` },
          () => knownNodes(commands),
        );
      }
    } else {
      this.redis = new Redis(settings.url ?? '', {
        ...connection,
        connectionName: `${settings.connectionName}:cmd`,
      });
      this.subscriber = this.redis.duplicate({
        connectionName: `${settings.connectionName}:sub`,
      });
    }
    this.registry = new SubscriptionRegistry(
      {
        open: (scope) => this.openChannel(scope),
        close: (scope) => this.closeChannel(scope),
        // A revision that went back may be the first save after Redis lost its data.
        check: (scope) => {
          this.pendingResync.set(scope.channel, scope);
          void this.resync();
        },
        // A channel opened before its counter existed: its messages name no epoch.
        readEpoch: (scope) => void this.readEpoch(scope),
      },
      this.logger,
    );
    this.watch(this.redis, 'command', () => this.onCommandReady());
    this.watch(this.subscriber, 'subscriber', () => this.resubscribeAll('reconnect'));
    // The Buffer variant: ioredis then skips decoding each message to a string (up to 1 MB),
    // and the bytes go to the sockets as received. Sharded messages arrive as `smessage`.
    this.subscriber.on(
      this.pubsub === 'sharded' ? 'smessageBuffer' : 'messageBuffer',
      (channel: Buffer, raw: Buffer) => this.onMessage(channel.toString(), raw),
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

  async load(scope: StateScope): Promise<LoadedRecord | null> {
    const read = parseReadReply(await this.runScript(READ_SCRIPT, scope, ['full']));
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
    const read = parseReadReply(await this.runScript(READ_SCRIPT, scope, ['head']));
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
    return this.runScript(SAVE_SCRIPT, scope, [
      { parts },
      String(expected),
      String(afterRevisionOffset(expected)),
      String(request.timestamp),
      String(request.ttlSeconds),
      request.ifMatch === undefined ? '' : String(request.ifMatch),
      scope.channel,
      request.replaceNewer ? '1' : '',
      request.ifMatchEpoch ?? '',
      this.publishCommand,
      patchTail,
    ]).then((reply) => {
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
    const reply = await this.runScript(DELETE_SCRIPT, scope, [
      String(request.ttlSeconds),
      scope.channel,
      deletedOriginField(request.origin),
      this.publishCommand,
    ]);
    if (!Array.isArray(reply)) throw unexpectedReply('delete', reply);
    const revision = toNumber(reply[1]);
    this.remember(scope.channel, revision);
    return { deleted: reply[0] === 1, revision, epoch: toEpoch(reply[2]) };
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
    return this.lastStatus;
  }

  onStatus(listener: (status: StoreStatus) => void): () => void {
    this.statusListeners.add(listener);
    return () => {
      this.statusListeners.delete(listener);
    };
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
      clearTimeout(this.resyncTimer);
      clearTimeout(this.topologyTimer);
      this.pendingResync.clear();
      this.pendingResubscribe.clear();
      this.registry.clear();
      this.statusListeners.clear();
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

  private watch(client: RedisClient, role: 'command' | 'subscriber', onReady: () => void): void {
    this.metrics?.storeConnection(role, false);
    // Without an `error` listener ioredis errors would crash the process.
    client.on('error', (error: Error) => {
      const context = { role, err: error.message };
      if (this.down.has(role)) this.logger.debug(context, 'redis connection error');
      else this.throttledLog.warn(role, context, 'redis connection error');
    });
    client.on('close', () => {
      this.metrics?.storeConnection(role, false);
      if (this.closing) return;
      // The subscriber's channels must be compared with the store once it is back.
      if (role === 'subscriber') this.catchingUp = true;
      if (!this.down.has(role)) {
        this.down.add(role);
        this.logger.warn({ role }, 'redis connection lost; reconnecting');
      }
      this.refreshStatus();
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
      this.refreshStatus();
    });
  }

  /**
   * `up` when both connections are ready and every channel has been compared with the
   * store since the subscriber last came back; listeners hear each change once.
   */
  private refreshStatus(): void {
    const up =
      !this.closing &&
      !this.catchingUp &&
      this.redis.status === 'ready' &&
      this.subscriber.status === 'ready';
    const status: StoreStatus = up ? 'up' : 'down';
    if (status === this.lastStatus) return;
    this.lastStatus = status;
    this.logger.info({ status }, 'state store status changed');
    for (const listener of this.statusListeners) {
      try {
        listener(status);
      } catch (error) {
        this.logger.error({ err: errorMessage(error) }, 'store status listener threw');
      }
    }
  }

  /** Cluster-only signals: one node's errors, and topology changes to catch up after. */
  private watchCluster(cluster: Cluster, role: 'command' | 'subscriber'): void {
    // Each retry against a node that is down reports again: one line per node per interval.
    cluster.on('node error', (error: Error, node: string) => {
      this.throttledLog.warn(
        `${role}:${node}`,
        { role, node, err: errorMessage(error) },
        'redis cluster node error',
      );
    });
    if (role === 'command') {
      // A promoted replica or a new primary lacks the scripts until loaded (EVAL covers it
      // meanwhile); loading them at once spares the first saves the fallback.
      // Before `ready` the first map is still being applied (connections are swapped), and
      // `ready` loads them anyway.
      let seen = '';
      cluster.on('refresh', () => {
        const now = primaryFingerprint(cluster.slots);
        if (now === seen) return;
        seen = now;
        if (cluster.status === 'ready') this.loadScripts();
      });
      return;
    }
    cluster.on('refresh', () => {
      const now = primaryFingerprint(cluster.slots);
      if (now === this.topology) return;
      const first = this.topology === '';
      this.topology = now;
      if (!first) this.onTopologyChange('slot map changed');
    });
    // (Only the sharded subscriber is a cluster client.) ioredis replaced subscriber
    // connections (failover, restart, migrated slot) and re-subscribed without telling when
    // that is done, or a shard's subscriber connection ended.
    cluster.on('subscribersReady', () => this.onTopologyChange('sharded subscribers replaced'));
    cluster.on('-node', () => this.onTopologyChange('a node left'));
  }

  private onTopologyChange(reason: string): void {
    if (this.closing || this.registry.scopes().length === 0) return;
    this.logger.debug({ reason }, 'redis cluster topology changed; re-subscribing');
    clearTimeout(this.topologyTimer);
    this.topologyTimer = setTimeout(() => void this.resubscribeAll(reason), TOPOLOGY_SETTLE_MS);
    this.topologyTimer.unref();
  }

  private onCommandReady(): void {
    this.loadScripts();
    if (this.pendingResync.size > 0) void this.resync();
  }

  /** Loads the scripts on the Redis, or on every primary of a cluster (so EVALSHA finds them). */
  private loadScripts(): void {
    const targets = this.redis instanceof Cluster ? primaries(this.redis) : [this.redis];
    for (const target of targets) {
      for (const script of [SAVE_SCRIPT, DELETE_SCRIPT, READ_SCRIPT]) {
        target.script('LOAD', script.source).catch((error: unknown) => {
          this.throttledLog.warn(
            `script-load:${target.options.host}:${target.options.port}`,
            { err: errorMessage(error) },
            'loading a Lua script failed',
          );
        });
      }
    }
  }

  /**
   * Subscribes every channel again, awaits it, then compares them with the store so each
   * socket gets the newest change it missed (a reconnect, a failover, a migrated slot: a
   * sharded publish can be lost between a key's migration and the slot's hand-over, and
   * this catch-up covers that window).
   */
  private resubscribeAll(reason: string): Promise<void> {
    for (const scope of this.registry.scopes()) this.pendingResubscribe.set(scope.channel, scope);
    return this.runResubscribe(reason);
  }

  /**
   * One run at a time over the pending channels; a signal during a run adds to them. On a
   * cluster a channel whose shard is still down is retried with backoff on its own, so
   * the channels of healthy shards are caught up at once rather than after the outage.
   */
  private runResubscribe(reason: string): Promise<void> {
    this.resubscribing ??= (async () => {
      while (this.pendingResubscribe.size > 0 && !this.closing) {
        const scopes = [...this.pendingResubscribe.values()].filter((scope) =>
          this.registry.has(scope.channel),
        );
        this.pendingResubscribe.clear();
        const { failed, error } = await this.subscribeAgain(scopes);
        const done = scopes.filter((scope) => !failed.includes(scope));
        if (done.length > 0) {
          this.logger.info({ channels: done.length, reason }, 're-subscribed channels');
          for (const scope of done) this.pendingResync.set(scope.channel, scope);
          await this.resync();
        }
        if (failed.length > 0) {
          this.logger.warn(
            { err: errorMessage(error), channels: failed.length, reason },
            're-subscribing channels failed',
          );
          // One Redis: the connection dropped again and its next `ready` retries them all.
          // A cluster has no such single event (one shard may stay down): retry these.
          if (this.subscriber instanceof Cluster) {
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
    const delay = this.reconnectDelay(this.resubscribeAttempts);
    if (delay === null) return;
    clearTimeout(this.topologyTimer);
    this.topologyTimer = setTimeout(() => void this.runResubscribe(reason), delay);
    this.topologyTimer.unref();
  }

  /**
   * SUBSCRIBE `scopes`' channels again (all or none), or SSUBSCRIBE each on its own shard
   * (ioredis takes several only when they share a slot). A sharded channel is
   * SUNSUBSCRIBEd first, because ioredis keeps a list per slot that a second SSUBSCRIBE
   * would grow; the instant without it is covered by the catch-up that follows.
   */
  private async subscribeAgain(
    scopes: StateScope[],
  ): Promise<{ failed: StateScope[]; error?: unknown }> {
    if (scopes.length === 0) return { failed: [] };
    const subscriber = this.subscriber;
    if (this.pubsub === 'classic' || !(subscriber instanceof Cluster)) {
      try {
        await subscriber.subscribe(...scopes.map((scope) => scope.channel));
        return { failed: [] };
      } catch (error) {
        return { failed: scopes, error };
      }
    }
    const results = await Promise.allSettled(
      scopes.map(async (scope) => {
        await subscriber.sunsubscribe(scope.channel);
        await subscriber.ssubscribe(scope.channel);
      }),
    );
    const failed = scopes.filter((_scope, index) => results[index]?.status === 'rejected');
    const rejection = results.find((result) => result.status === 'rejected');
    return { failed, error: rejection?.reason };
  }

  /** SUBSCRIBE, or SSUBSCRIBE on a sharded cluster, of one channel. */
  private async subscribeChannel(channel: string): Promise<void> {
    const subscriber = this.subscriber;
    if (this.pubsub === 'sharded' && subscriber instanceof Cluster) {
      await subscriber.ssubscribe(channel);
    } else {
      await subscriber.subscribe(channel);
    }
  }

  /**
   * Every channel is subscribed again and compared with the store (nothing pending): the
   * store may be `up` again. (After a cluster topology change the store stays `up`
   * meanwhile: only a lost subscriber connection sets `catchingUp`.)
   */
  private caughtUp(): void {
    if (
      this.pendingResync.size > 0 ||
      this.pendingResubscribe.size > 0 ||
      this.subscriber.status !== 'ready'
    ) {
      return;
    }
    this.catchingUp = false;
    this.refreshStatus();
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
    await this.command('subscribe', () => this.subscribeChannel(scope.channel));
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
    if (this.pubsub === 'sharded' && this.subscriber instanceof Cluster) {
      await this.subscriber.sunsubscribe(scope.channel);
    } else {
      await this.subscriber.unsubscribe(scope.channel);
    }
  }

  /** Compares pending channels with the store; pushes what moved; retries on failure. */
  private resync(): Promise<void> {
    this.resyncRunning ??= this.runResync()
      .catch((error: unknown) => {
        this.logger.error({ err: errorMessage(error) }, 'resync after reconnect failed');
      })
      .finally(() => {
        this.resyncRunning = undefined;
      });
    return this.resyncRunning;
  }

  private async runResync(): Promise<void> {
    while (this.pendingResync.size > 0 && !this.closing) {
      const scopes = [...this.pendingResync.values()].filter((scope) =>
        this.registry.has(scope.channel),
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
    const delivered = this.registry.revisionOf(scope.channel);
    if (delivered === undefined) return;
    // Nothing stored and nothing newer than what listeners saw: no `deleted` to announce.
    const push = event?.type === 'state' || head.revision > delivered ? event : null;
    const deliveredEpoch = this.registry.epochOf(scope.channel);
    const result = this.registry.reconcile(scope.channel, head, push);
    this.metrics?.storeResynced(result);
    const context = {
      workspaceId: scope.workspaceId,
      userId: scope.userId,
      revision: head.revision,
      epoch: head.epoch,
      delivered,
      deliveredEpoch,
    };
    if (result === 'pushed') {
      this.logger.info(context, 'pushed a change missed while the subscriber was away');
    } else if (result === 'reset') {
      this.logger.warn(context, 'revision counter was reset (Redis lost data): channel reset');
      // A message dropped between the snapshot and the reset would be lost: look again,
      // once (the second look finds the same head, unless yet another save got in).
      if (head.revision < delivered) this.pendingResync.set(scope.channel, scope);
    }
  }

  private scheduleResync(error: unknown): void {
    this.resyncAttempts += 1;
    const delay = this.reconnectDelay(this.resyncAttempts);
    if (delay === null) return;
    this.logger.warn(
      { err: errorMessage(error), retryInMs: delay },
      'resync after reconnect failed; retrying',
    );
    clearTimeout(this.resyncTimer);
    this.resyncTimer = setTimeout(() => void this.resync(), delay);
    this.resyncTimer.unref();
  }

  private async readSnapshots(scopes: StateScope[]): Promise<ChannelSnapshot[]> {
    const replies = await this.readStored(scopes);
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

  /** READ_SCRIPT replies of `scopes`, in their order: one pipeline per node. */
  private async readStored(scopes: StateScope[]): Promise<unknown[]> {
    const redis = this.redis;
    if (!(redis instanceof Cluster)) {
      // A Redis that just came back has no scripts yet, and a pipeline cannot retry
      // NOSCRIPT per command: load it first (a no-op when it is there).
      await redis.script('LOAD', READ_SCRIPT.source);
      return this.pipelined(redis, (pipeline) => {
        for (const scope of scopes)
          pipeline.evalsha(READ_SCRIPT.sha, 4, ...this.keysOf(scope), 'full');
        return pipeline;
      });
    }
    // A cluster pipeline reaches one node: group the reads by the primary owning each
    // user's slot. EVAL, not EVALSHA: a node that just failed over may lack the script,
    // and sending its source costs nothing next to a resync's round trip.
    const replies = new Map<StateScope, unknown>();
    const groups = groupByPrimary(redis, scopes, (scope) => scope.stateKey);
    await Promise.all(
      [...groups.values()].map(async (group) => {
        const results = await this.pipelined(redis, (pipeline) => {
          for (const scope of group) {
            pipeline.eval(READ_SCRIPT.source, 2, ...this.keysOf(scope), 'full');
          }
          return pipeline;
        });
        for (const [index, scope] of group.entries()) replies.set(scope, results[index]);
      }),
    );
    return scopes.map((scope) => replies.get(scope));
  }

  /**
   * The keys a script gets for `scope`: its tagged state and counter, and on one Redis
   * also their untagged names of before, read when the tagged ones hold nothing (scope.ts).
   * A cluster gets none of those: they hash to other slots (CROSSSLOT), and no data can
   * be there, since the untagged save script was refused by every cluster.
   */
  private keysOf(scope: StateScope): string[] {
    if (this.redis instanceof Cluster) return [scope.stateKey, scope.revisionKey];
    return [scope.stateKey, scope.revisionKey, scope.legacyStateKey, scope.legacyRevisionKey];
  }

  /** Runs a pipeline and returns its replies, throwing the first command error. */
  private async pipelined(
    client: RedisClient,
    build: (pipeline: ReturnType<Redis['pipeline']>) => ReturnType<Redis['pipeline']>,
  ): Promise<unknown[]> {
    const results = await build(client.pipeline()).exec();
    if (!results) throw new Error('pipeline was discarded');
    return results.map(([error, value]) => {
      if (error) throw error;
      return value;
    });
  }

  /** EVALSHA on the scope's keys; on NOSCRIPT, EVAL (which caches the script on that node). */
  private runScript(script: LuaScript, scope: StateScope, args: WireArgument[]): Promise<unknown> {
    const keys = this.keysOf(scope);
    const send = (command: EvalshaCommand): Promise<unknown> => {
      const redis = this.redis;
      // Only a connected socket is corked: before `ready`, ioredis refuses the command anyway.
      // A cluster client has no one socket (ioredis picks the node per command): not corked.
      if (redis instanceof Redis && redis.status === 'ready') this.cork.hold(redis.stream);
      redis.sendCommand(command);
      return command.promise;
    };
    return send(new EvalshaCommand(script.sha, keys, args))
      .catch((error: unknown) => {
        // The script cache is empty after a restart or on a promoted replica, until loaded
        // again. A SCRIPT LOAD through a cluster client would reach a random node, while
        // EVAL goes where the keys are, runs there and leaves the script cached.
        if (!errorMessage(error).startsWith('NOSCRIPT')) throw error;
        return send(new EvalshaCommand(script.source, keys, args, 'eval'));
      })
      .catch((error: unknown) => {
        throw this.unavailable('script', error);
      });
  }

  private unavailable(operation: string, error: unknown): StoreUnavailableError {
    this.logger.debug({ operation, err: errorMessage(error) }, 'redis command failed');
    return new StoreUnavailableError(undefined, { cause: error });
  }

  private async command<T>(operation: string, run: () => Promise<T>): Promise<T> {
    try {
      return await run();
    } catch (error) {
      throw this.unavailable(operation, error);
    }
  }
}

/** The epoch in a script reply ('' when there is none). */
function toEpoch(value: unknown): string {
  return typeof value === 'string' ? value : '';
}

/** A counter key's value: '<revision>:<epoch>', a bare revision (no epoch yet), or none. */
export function parseCounter(value: unknown): ChannelHead {
  if (typeof value !== 'string') return { revision: 0, epoch: '' };
  const colon = value.indexOf(':');
  if (colon < 0) return { revision: toNumber(value), epoch: '' };
  return { revision: toNumber(value.slice(0, colon)), epoch: value.slice(colon + 1) };
}

function toNumber(value: unknown): number {
  const number = typeof value === 'number' ? value : Number(value ?? 0);
  return Number.isFinite(number) ? number : 0;
}

function toRecord(
  stateJson: string,
  revision: unknown,
  savedAt: unknown,
  version: unknown,
  origin: unknown,
): StoredRecord {
  return {
    stateJson,
    revision: toNumber(revision),
    savedAt: toNumber(savedAt),
    // 0 = unknown: the service then reads `version` from the state itself and migrates.
    version: version == null ? 0 : toNumber(version),
    origin: typeof origin === 'string' ? origin : '',
  };
}

function unexpectedReply(operation: string, reply: unknown): Error {
  return new Error(`unexpected reply to ${operation}: ${typeof reply}`);
}

interface ReadResult {
  kind: 'message' | 'legacy' | 'none' | 'unreadable';
  record: StoredRecord | null;
  /** Revision of the stored value (0 when none). */
  revision: number;
  /** The revision counter key (written by saves and deletes). */
  counter: number;
  /** The counter's epoch ('' when there is no counter, or it has no epoch yet). */
  epoch: string;
  /** The stored message as read (a full read of the current layout only). */
  text?: string;
}

/** A READ_SCRIPT reply; a `head` read gives the revision but no record. */
function parseReadReply(reply: unknown): ReadResult {
  if (!Array.isArray(reply)) throw unexpectedReply('read', reply);
  const [kind] = reply;
  if (kind === 'none') {
    const { revision: counter, epoch } = parseCounter(reply[1]);
    return { kind, record: null, revision: 0, counter, epoch };
  }
  if (kind === 'legacy') {
    const { revision: counter, epoch } = parseCounter(reply[6]);
    if (typeof reply[1] !== 'string' || reply[2] == null) {
      return { kind, record: null, revision: toNumber(reply[2]), counter, epoch };
    }
    const record = toRecord(reply[1], reply[2], reply[3], reply[4], reply[5]);
    return { kind, record, revision: record.revision, counter, epoch };
  }
  if (kind === 'message' && typeof reply[1] === 'string') {
    const { revision: counter, epoch } = parseCounter(reply[2]);
    const record = parseStoredMessage(reply[1]);
    if (record) return { kind, record, revision: record.revision, counter, epoch, text: reply[1] };
    // A `head` read holds only the first bytes: its revision is all that is wanted.
    const revision = storedRevision(reply[1]);
    if (revision !== null) return { kind, record: null, revision, counter, epoch };
    return { kind: 'unreadable', record: null, revision: 0, counter, epoch };
  }
  throw unexpectedReply('read', reply);
}

interface ParsedSave {
  result: SaveOutcome;
  /** The revision the key is at now (the new one, or the stored one that won). */
  revision: number;
  replacedUnreadable: boolean;
}

function parseSaveReply(reply: unknown, savedAt: number): ParsedSave {
  if (!Array.isArray(reply)) throw unexpectedReply('save', reply);
  const [status] = reply;
  if (status === 'saved') {
    const revision = toNumber(reply[1]);
    const epoch = toEpoch(reply[3]);
    return {
      result: { status, revision, savedAt, epoch },
      revision,
      replacedUnreadable: reply[2] === 1,
    };
  }
  if (status === 'stale') {
    const revision = toNumber(reply[1]);
    const epoch = toEpoch(reply[2]);
    return { result: { status, revision, epoch }, revision, replacedUnreadable: false };
  }
  const current =
    status === 'conflict' && typeof reply[1] === 'string'
      ? parseStoredMessage(reply[1])
      : status === 'conflict-legacy' && typeof reply[1] === 'string'
        ? toRecord(reply[1], reply[2], reply[3], reply[4], reply[5])
        : null;
  if (current) {
    return {
      result: { status: 'conflict', current },
      revision: current.revision,
      replacedUnreadable: false,
    };
  }
  throw unexpectedReply('save', reply);
}

async function quit(client: RedisClient): Promise<void> {
  if (client.status === 'ready') {
    try {
      await client.quit();
      return;
    } catch {
      // Fall through: the connection is going away anyway.
    }
  }
  client.disconnect();
}
