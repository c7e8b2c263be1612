// What a subscriber WebSocket is given by the plugin: the service, the token verifier,
// its limits, fan-out batching, metrics and the plugin's bookkeeping callbacks.
import type { FastifyBaseLogger } from 'fastify';
import type { TokenVerifier } from '../auth/token-verifier.js';
import type { JsonTextParser } from '../http/json-text.js';
import type { ServerMetrics } from '../metrics/server-metrics.js';
import type { RequestLimiter } from '../rate-limit/request-limiter.js';
import type { StatePersistenceService } from '../service/state-persistence-service.js';
import type { StoreStatus } from '../store/state-store.js';
import type { WriteCoalescer } from './fan-out/write-coalescer.js';

/** `TSocket`: the socket class, handed back by `onClosed` (state-socket.ts). */
export interface SocketOptions<TSocket> {
  service: StatePersistenceService;
  verifier: TokenVerifier;
  /** Per-IP (before auth) and per-user limits of every message. */
  limiter: RequestLimiter | undefined;
  /** The client's IP address. */
  ip: string;
  logger: FastifyBaseLogger;
  /** Time allowed for the first `auth` message when the upgrade had no Authorization header. */
  authTimeoutMs: number;
  /**
   * The client asked for `patch` messages (`?patches=1`): a change is sent as a patch
   * against the previous one where that is worth it, else as the full `state`.
   */
  patches: boolean;
  /** Decides when this socket's waiting changes are written (fan-out batching). */
  coalescer: WriteCoalescer;
  /** Counts saves, deliveries and dropped sockets. */
  metrics: ServerMetrics;
  /** The store's status now (a socket that joins while it is down is told so). */
  storeStatus(): StoreStatus;
  /** Reads a message's JSON by the same rules as an HTTP body (prototype poisoning refused). */
  parseJson: JsonTextParser;
  /** Registers a save/delete in flight, so shutdown can wait for it. */
  track(operation: Promise<void>): void;
  onClosed(socket: TSocket): void;
  /** The server is closing the socket with `code` (for logs and metrics). */
  onCloseSent?(code: number, reason: string): void;
}
