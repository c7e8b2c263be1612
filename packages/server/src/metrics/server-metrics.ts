// The server's Prometheus metrics (prom-client): the default process metrics and the
// product's own, prefixed `hyvve_`. One registry per instance of this class, so two
// servers in one process (tests, an embedding app) never collide. Labels carry only
// bounded values (transport, HTTP status, reason): never a user or workspace id.
// The rest of the server calls these methods in one line each; nothing else here
// knows about HTTP or Redis.
import { Counter, collectDefaultMetrics, Gauge, Histogram, Registry } from 'prom-client';
import { savedAtOf } from '../channel/saved-at.js';
import type { ResyncResult, StoreConnectionRole, StoreMetrics } from './store-metrics.js';

/** How a save, load or delete reached the server. */
export type Transport = 'http' | 'ws';

/** Why the server ended a socket itself. */
export type SocketDropReason = 'heartbeat' | 'stalled' | 'flood';

export interface ServerMetricsOptions {
  /**
   * False: nothing is counted (every method returns at once, the HTTP hook and the
   * /metrics route are left out). For measuring what the metrics cost. @default true
   */
  enabled?: boolean;
  /** Also collect prom-client's process metrics (CPU, memory, event-loop lag, GC). @default true */
  defaultMetrics?: boolean;
  /** Clock of the propagation lag, in ms since the epoch (compared with `savedAt`). @default Date.now */
  now?: () => number;
}

/** Seconds: a save is ~1 ms on a quiet Redis; the top buckets catch a stalled one. */
const LATENCY_BUCKETS = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5];
/** Seconds from `savedAt` to arrival here: coalescing (WS_COALESCE_MS) and other instances' clocks. */
const LAG_BUCKETS = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];

type SaveLabels = 'transport' | 'status';

export class ServerMetrics implements StoreMetrics {
  /** Every metric of this server; serve `registry.metrics()` with `registry.contentType`. */
  readonly registry = new Registry();
  /** False when built with `enabled: false`: nothing is counted. */
  readonly enabled: boolean;
  private readonly now: () => number;
  private readonly saves: Counter<SaveLabels>;
  private readonly deletes: Counter<SaveLabels>;
  private readonly loads: Counter<'status'>;
  private readonly saveSeconds: Histogram<'transport'>;
  private readonly loadSeconds: Histogram;
  private readonly openSockets: Gauge;
  private readonly deliveries: Counter;
  private readonly conflated: Counter;
  private readonly dropped: Counter<'reason'>;
  private readonly limited: Counter<'transport'>;
  private readonly storeUp: Gauge;
  private readonly reconnects: Counter<'connection'>;
  private readonly resyncs: Counter<'result'>;
  private readonly lag: Histogram;
  /** Store connections currently down; the store is up when none is. */
  private readonly downConnections = new Set<StoreConnectionRole>();
  /** Labelled children by key: prom-client hashes the labels on every call otherwise. */
  private readonly counters = new Map<string, Counter.Internal>();
  private readonly histograms = new Map<string, Histogram.Internal<string>>();

  constructor(options: ServerMetricsOptions = {}) {
    this.now = options.now ?? Date.now;
    this.enabled = options.enabled ?? true;
    const registers = [this.registry];
    if (this.enabled && (options.defaultMetrics ?? true)) {
      collectDefaultMetrics({ register: this.registry });
    }
    this.saves = new Counter({
      name: 'hyvve_state_saves_total',
      help: 'State saves answered, by transport and HTTP status (200 = saved)',
      labelNames: ['transport', 'status'],
      registers,
    });
    this.deletes = new Counter({
      name: 'hyvve_state_deletes_total',
      help: 'State deletes answered, by transport and HTTP status (204/200 = deleted)',
      labelNames: ['transport', 'status'],
      registers,
    });
    this.loads = new Counter({
      name: 'hyvve_state_loads_total',
      help: 'State loads (HTTP GET) answered, by HTTP status',
      labelNames: ['status'],
      registers,
    });
    this.saveSeconds = new Histogram({
      name: 'hyvve_state_save_duration_seconds',
      help: 'Time to answer a save (validation, store, reply), by transport',
      labelNames: ['transport'],
      buckets: LATENCY_BUCKETS,
      registers,
    });
    this.loadSeconds = new Histogram({
      name: 'hyvve_state_load_duration_seconds',
      help: 'Time to answer a load (HTTP GET)',
      buckets: LATENCY_BUCKETS,
      registers,
    });
    this.openSockets = new Gauge({
      name: 'hyvve_websockets_open',
      help: 'Subscriber WebSockets open on this instance',
      registers,
    });
    this.deliveries = new Counter({
      name: 'hyvve_fanout_deliveries_total',
      help: 'Changes (state, patch or deleted) written to subscriber sockets',
      registers,
    });
    this.conflated = new Counter({
      name: 'hyvve_fanout_conflated_messages_total',
      help: 'Changes not sent to a socket because a newer one replaced them before it drained',
      registers,
    });
    this.dropped = new Counter({
      name: 'hyvve_websockets_dropped_total',
      help: 'Sockets the server ended itself, by reason (heartbeat, stalled)',
      labelNames: ['reason'],
      registers,
    });
    this.limited = new Counter({
      name: 'hyvve_rate_limited_requests_total',
      help: 'Requests refused with 429 (rate limited), by transport',
      labelNames: ['transport'],
      registers,
    });
    this.storeUp = new Gauge({
      name: 'hyvve_store_up',
      help: '1 when the state store (both Redis connections) is available, else 0',
      registers,
      collect: () => this.storeUp.set(this.downConnections.size === 0 ? 1 : 0),
    });
    this.reconnects = new Counter({
      name: 'hyvve_redis_reconnects_total',
      help: 'Redis connections ready again after being lost, by connection (command, subscriber)',
      labelNames: ['connection'],
      registers,
    });
    this.resyncs = new Counter({
      name: 'hyvve_store_resyncs_total',
      help: 'Channels compared with the store after an outage, by result (same, pushed, reset)',
      labelNames: ['result'],
      registers,
    });
    this.lag = new Histogram({
      name: 'hyvve_propagation_lag_seconds',
      help: "Time from a change's savedAt to its arrival on this instance for fan-out",
      buckets: LAG_BUCKETS,
      registers,
    });
  }

  /** Content type of `text()`. */
  get contentType(): string {
    return this.registry.contentType;
  }

  /** The metrics in Prometheus text format. */
  text(): Promise<string> {
    return this.registry.metrics();
  }

  /** A save was answered with `status` after `elapsedMs`. A 429 also counts as rate limited. */
  saveFinished(transport: Transport, status: number, elapsedMs: number): void {
    if (!this.enabled) return;
    this.child(this.saves, `s${transport}${status}`, { transport, status }).inc();
    this.histogram(this.saveSeconds, transport, { transport }).observe(elapsedMs / 1000);
    if (status === 429) this.rateLimited(transport);
  }

  /** A load was answered with `status` after `elapsedMs`. */
  loadFinished(status: number, elapsedMs: number): void {
    if (!this.enabled) return;
    this.child(this.loads, `l${status}`, { status }).inc();
    this.loadSeconds.observe(elapsedMs / 1000);
  }

  deleteFinished(transport: Transport, status: number): void {
    if (!this.enabled) return;
    this.child(this.deletes, `x${transport}${status}`, { transport, status }).inc();
    if (status === 429) this.rateLimited(transport);
  }

  /** A request refused for its rate; called by `saveFinished` and by other limits. */
  rateLimited(transport: Transport): void {
    if (!this.enabled) return;
    this.child(this.limited, `r${transport}`, { transport }).inc();
  }

  socketOpened(): void {
    if (!this.enabled) return;
    this.openSockets.inc();
  }

  socketClosed(): void {
    if (!this.enabled) return;
    this.openSockets.dec();
  }

  /** `count` changes written (or queued) to subscriber sockets. */
  delivered(count = 1): void {
    if (!this.enabled) return;
    this.deliveries.inc(count);
  }

  /**
   * `count` changes a socket never got because a newer change superseded them while it
   * was behind (conflation): the socket still ends on the latest state.
   */
  messagesConflated(count = 1): void {
    if (!this.enabled) return;
    this.conflated.inc(count);
  }

  socketDropped(reason: SocketDropReason): void {
    if (!this.enabled) return;
    this.child(this.dropped, `p${reason}`, { reason }).inc();
  }

  storeConnection(role: StoreConnectionRole, up: boolean): void {
    if (!this.enabled) return;
    if (up) this.downConnections.delete(role);
    else this.downConnections.add(role);
  }

  storeReconnected(role: StoreConnectionRole): void {
    if (!this.enabled) return;
    this.child(this.reconnects, `c${role}`, { connection: role }).inc();
  }

  storeResynced(result: ResyncResult): void {
    if (!this.enabled) return;
    this.child(this.resyncs, `y${result}`, { result }).inc();
  }

  /** A channel message arrived (its raw bytes): observes the lag from its `savedAt`. */
  channelEventReceived(message: Buffer): void {
    if (!this.enabled) return;
    const savedAt = savedAtOf(message);
    // Another instance's clock may run ahead of ours: a negative lag counts as none.
    if (savedAt !== undefined) this.lag.observe(Math.max(0, this.now() - savedAt) / 1000);
  }

  private child<L extends string>(
    metric: Counter<L>,
    key: string,
    labels: Record<L, string | number>,
  ): Counter.Internal {
    let child = this.counters.get(key);
    if (!child) {
      child = metric.labels(labels);
      this.counters.set(key, child);
    }
    return child;
  }

  private histogram<L extends string>(
    metric: Histogram<L>,
    key: string,
    labels: Record<L, string | number>,
  ): Histogram.Internal<L> {
    let child = this.histograms.get(key);
    if (!child) {
      child = metric.labels(labels);
      this.histograms.set(key, child);
    }
    return child;
  }
}
