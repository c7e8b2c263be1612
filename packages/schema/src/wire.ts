// Messages on the wire: Redis pub/sub, the WebSocket API and HTTP bodies. Incoming
// messages are parsed with these schemas; `state` stays `unknown` here and is checked
// once with `validateDashboardState`, so a save is never validated twice.
import './strict-csp.js';
import { z } from 'zod';
import type { DashboardState } from './dashboard-state.js';
import { JSON_PATCH_CONTENT_TYPE, MERGE_PATCH_CONTENT_TYPE } from './merge-patch.js';
import type { StatePatch } from './state-patch.js';
import { statePatchSchema } from './state-patch-schema.js';

const revision = z.number().int().nonnegative();

/** What the store keeps under `dashboard:state:{workspaceId}:{userId}`. */
export interface StoredState {
  state: DashboardState;
  /** Per-key counter that only grows; assigned by the server with the write. */
  revision: number;
  /** Server time of the save, ms since epoch. */
  savedAt: number;
  /** Epoch of the revision counter (GET bodies carry it; see `ServerMessage` `ready`). */
  epoch?: string;
}

/** Published on `dashboard:state:channel:{workspaceId}:{userId}`. */
export type ChannelMessage =
  | {
      type: 'state';
      state: DashboardState;
      revision: number;
      savedAt: number;
      /** `state.timestamp`, repeated in the head (our server always sends it). */
      timestamp?: number;
      origin: string;
    }
  | { type: 'deleted'; revision: number; origin?: string };

export const channelMessageSchema = z.discriminatedUnion('type', [
  z.object({
    type: z.literal('state'),
    state: z.unknown(),
    revision,
    savedAt: z.number(),
    timestamp: z.number().optional(),
    origin: z.string(),
  }),
  z.object({ type: z.literal('deleted'), revision, origin: z.string().optional() }),
]);

/** Browser → server over the subscribe WebSocket. */
export const clientMessageSchema = z.discriminatedUnion('type', [
  z.object({ type: z.literal('auth'), token: z.string().min(1) }),
  z.object({
    type: z.literal('save'),
    id: z.string().min(1).max(128),
    state: z.unknown(),
    baseRevision: revision.optional(),
    /** Id of the sending engine; echoed as `origin` so it can ignore its own saves. */
    origin: z.string().max(128).optional(),
  }),
  /**
   * Like PATCH: `patch` applied to the stored state atomically (answered `saved` or
   * `error`). `contentType` names the format; absent, an array is a JSON Patch (RFC 6902)
   * and anything else a JSON Merge Patch (RFC 7386).
   */
  z.object({
    type: z.literal('patch-save'),
    id: z.string().min(1).max(128),
    patch: z.unknown(),
    contentType: z.enum([MERGE_PATCH_CONTENT_TYPE, JSON_PATCH_CONTENT_TYPE]).optional(),
    baseRevision: revision.optional(),
    origin: z.string().max(128).optional(),
  }),
  z.object({
    type: z.literal('delete'),
    id: z.string().min(1).max(128),
    origin: z.string().max(128).optional(),
  }),
]);
export type ClientMessage = z.infer<typeof clientMessageSchema>;

/** Error codes shared by HTTP bodies and WebSocket `error` messages. */
export type ApiErrorCode =
  | 'unauthorized'
  | 'invalid_request'
  | 'invalid_state'
  | 'state_too_large'
  | 'unsupported_media_type'
  | 'precondition_failed'
  | 'conflict'
  | 'rate_limited'
  | 'store_unavailable'
  | 'not_found'
  | 'internal_error';

/**
 * Epoch of a user's revision counter: an opaque id of its incarnation. Revisions only
 * grow within one epoch; a new one means the store lost the counter (its data) and
 * revisions started over. '' = no counter yet (nothing stored).
 */
const epoch = z.string().max(64);

/** Server → browser over the subscribe WebSocket. */
export type ServerMessage =
  /**
   * After auth, and again when the server finds the user's counter reset (a new epoch):
   * forget the server base revision and reconcile as on a first connect.
   */
  /**
   * `serverTime`: the server's clock (ms since epoch) when it sent this, so a client whose
   * clock runs ahead stamps what it saves at most at server time (saves more than
   * MAX_CLOCK_SKEW_MS ahead are refused with 400, path `timestamp`).
   */
  | { type: 'ready'; revision: number; epoch?: string; serverTime?: number }
  | Extract<ChannelMessage, { type: 'state' }>
  | { type: 'deleted'; revision: number; origin?: string }
  /**
   * Only to sockets that subscribed with `?patches=1`: the state at `revision` is the one
   * at `baseRevision` with `patch` applied. A client holding another revision asks for the
   * full state instead (GET), so a patch is never applied to the wrong base.
   */
  | {
      type: 'patch';
      revision: number;
      baseRevision: number;
      savedAt: number;
      origin: string;
      patch: StatePatch;
    }
  | { type: 'saved'; id: string; revision: number; savedAt: number; epoch?: string }
  | { type: 'delete-ack'; id: string; revision: number; epoch?: string }
  /**
   * The server's store: `down` when this instance lost it (saves answer 503, changes may
   * be missed), `up` once it is back and this instance has caught up with it.
   */
  | { type: 'status'; store: 'up' | 'down' }
  | {
      type: 'error';
      id?: string;
      status: number;
      error: ApiErrorCode;
      message: string;
      /** For `conflict`: the stored state that won. */
      current?: StoredState;
      /** For `precondition_failed`: the revision the server holds now. */
      revision?: number;
      /** For `invalid_state`: the field refused (e.g. `timestamp` from a clock too far ahead). */
      path?: string;
      /** With path `timestamp`: the server's clock, to re-stamp the save with. */
      serverTime?: number;
    };

export const serverMessageSchema = z.discriminatedUnion('type', [
  z.object({
    type: z.literal('ready'),
    revision,
    epoch: epoch.optional(),
    serverTime: z.number().optional(),
  }),
  z.object({
    type: z.literal('state'),
    state: z.unknown(),
    revision,
    savedAt: z.number(),
    timestamp: z.number().optional(),
    origin: z.string(),
  }),
  z.object({ type: z.literal('deleted'), revision, origin: z.string().optional() }),
  z.object({
    type: z.literal('patch'),
    revision,
    baseRevision: revision,
    savedAt: z.number(),
    origin: z.string(),
    patch: statePatchSchema,
  }),
  z.object({
    type: z.literal('saved'),
    id: z.string(),
    revision,
    savedAt: z.number(),
    epoch: epoch.optional(),
  }),
  z.object({ type: z.literal('delete-ack'), id: z.string(), revision, epoch: epoch.optional() }),
  z.object({ type: z.literal('status'), store: z.enum(['up', 'down']) }),
  z.object({
    type: z.literal('error'),
    id: z.string().optional(),
    status: z.number().int(),
    error: z.string(),
    message: z.string(),
    current: z.object({ state: z.unknown(), revision, savedAt: z.number() }).optional(),
    revision: revision.optional(),
    path: z.string().optional(),
    serverTime: z.number().optional(),
  }),
]);

/**
 * A server message as `serverMessageSchema` parses it (`state` still unchecked). The
 * browser checks messages with `parseServerMessage` (parse-server-message.ts), which
 * answers as the schema does without Zod's runtime.
 */
export type ParsedServerMessage = z.output<typeof serverMessageSchema>;

/** HTTP error body: `{ error, message, ...context }`. */
export interface ApiErrorBody {
  error: ApiErrorCode;
  message: string;
  path?: string;
  /** With path `timestamp` (a clock too far ahead): the server's clock, ms since epoch. */
  serverTime?: number;
  size?: number;
  limit?: number;
  current?: StoredState;
  /** For `precondition_failed`: the revision the server holds now. */
  revision?: number;
  retryAfterMs?: number;
}
