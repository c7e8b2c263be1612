// A message of a user's channel, built and parsed once per instance: every local
// WebSocket gets the same text (and the same encoded bytes), never a re-serialisation.
import { type ChannelMessage, channelMessageSchema } from '@hyvve/schema';

/** What a `patch` message says, before it is written out (see `patchMessageText`). */
export interface ChannelPatchParts {
  readonly revision: number;
  readonly baseRevision: number;
  readonly savedAt: number;
  readonly origin: string;
  /** The RFC 6902 operations as JSON text (an array). */
  readonly operations: string;
}

export interface ChannelEvent {
  readonly type: ChannelMessage['type'];
  readonly revision: number;
  /**
   * JSON text as published; it is also a valid `ServerMessage`, so sockets get it as is.
   * Decoded on first read when the event was made from bytes (sockets never need it).
   */
  readonly raw: string;
  /** The parsed message, decoded on first use only. */
  message(): ChannelMessage;
  /** UTF-8 bytes of `raw`, encoded on first use only (or as received) and shared by every socket. */
  bytes(): Buffer;
  /**
   * The `state` event this instance delivered on the same channel just before this one,
   * when both are `state` events and that one was kept (see `keepAsBase`): what the patch
   * for sockets that asked for patches is computed against. Set by the subscription
   * registry while the listeners run, cleared after; never set on a resync push.
   */
  base: ChannelEvent | undefined;
  /**
   * Set by a listener that will want the next change as a patch against this one (a
   * socket that asked for patches forwarded it): the registry then keeps this event as
   * the channel's base. A channel whose sockets all take full states keeps no event.
   */
  keepAsBase: boolean;
  /**
   * The patch its saver published with it (see `publishedPatchTail`): from the state of
   * `baseRevision` to this one. Used when it starts at this instance's base.
   */
  publishedPatch: ChannelPatchParts | undefined;
}

/**
 * Text of a `state` message. The state JSON is spliced in as is: it was validated and
 * serialised once by the save. With `timestamp` (the state's own, repeated in the head)
 * this is also the stored form of a Redis record (store/redis/stored-message.ts).
 */
export function stateMessageText(
  stateJson: string,
  revision: number,
  savedAt: number,
  origin: string,
  timestamp?: number,
): string {
  return stateMessageParts(stateJson, revision, savedAt, origin, timestamp).join('');
}

/**
 * `stateMessageText` as head, state JSON and tail, for a writer that joins them into
 * something larger (the save's Redis command) and would only copy a joined message again.
 */
export function stateMessageParts(
  stateJson: string,
  revision: number,
  savedAt: number,
  origin: string,
  timestamp?: number,
): [head: string, stateJson: string, tail: string] {
  const stamp = timestamp === undefined ? '' : `,"timestamp":${timestamp}`;
  const head = `{"type":"state","revision":${revision},"savedAt":${savedAt}${stamp},"origin":${JSON.stringify(origin)},"state":`;
  return [head, stateJson, '}'];
}

/** The `,"origin":...` tail of a `deleted` message (empty without an origin). */
export function deletedOriginField(origin?: string): string {
  return origin === undefined ? '' : `,"origin":${JSON.stringify(origin)}`;
}

export function deletedMessageText(revision: number, origin?: string): string {
  return `{"type":"deleted","revision":${revision}${deletedOriginField(origin)}}`;
}

export function createChannelEvent(
  type: ChannelMessage['type'],
  revision: number,
  raw: string,
  parsed?: ChannelMessage,
): ChannelEvent {
  return new LazyChannelEvent(type, revision, raw, undefined, parsed);
}

/** An event from the UTF-8 bytes received (e.g. from Redis): no text is decoded to forward it. */
export function createChannelEventFromBytes(
  type: ChannelMessage['type'],
  revision: number,
  bytes: Buffer,
): ChannelEvent {
  return new LazyChannelEvent(type, revision, undefined, bytes, undefined);
}

// Holds whichever of text and bytes it was made from and derives the other on first use:
// fan-out only ever needs the bytes, a resync or a test the text.
class LazyChannelEvent implements ChannelEvent {
  base: ChannelEvent | undefined = undefined;
  keepAsBase = false;
  publishedPatch: ChannelPatchParts | undefined = undefined;

  constructor(
    readonly type: ChannelMessage['type'],
    readonly revision: number,
    private text: string | undefined,
    private encoded: Buffer | undefined,
    private parsed: ChannelMessage | undefined,
  ) {}

  get raw(): string {
    this.text ??= this.encoded?.toString('utf8') ?? '';
    return this.text;
  }

  message(): ChannelMessage {
    // Our own messages are built from states validated on save, so they are trusted
    // here; foreign ones were checked with the schema before this event was made.
    if (this.parsed === undefined) {
      const decoded: ChannelMessage = JSON.parse(this.raw);
      this.parsed = decoded;
    }
    return this.parsed;
  }

  bytes(): Buffer {
    this.encoded ??= Buffer.from(this.raw, 'utf8');
    return this.encoded;
  }
}

// Messages built by stateMessageText/deletedMessageText (and the Lua scripts) start like
// this, so their type and revision are read without decoding a state of up to 1 MB.
const OWN_PREFIX = /^\{"type":"(state|deleted)","revision":(\d+)[,}]/;

/** Parses a message received on a channel; `null` when it is not a channel message. */
export function parseChannelEvent(raw: string): ChannelEvent | null {
  const own = OWN_PREFIX.exec(raw);
  if (own) return createChannelEvent(ownType(own), Number(own[2]), raw);
  return parseForeign(raw, (type, revision) => createChannelEvent(type, revision, raw));
}

// Long enough for the prefix of every own message with a revision of up to 16 digits;
// a longer one (never assigned in practice) takes the full parse, which still accepts it.
const PREFIX_BYTES = 48;

/**
 * Same as `parseChannelEvent` for the bytes received from Redis: an own message is
 * recognised from its ASCII prefix and forwarded without decoding the rest.
 */
export function parseChannelEventBytes(bytes: Buffer): ChannelEvent | null {
  const own = OWN_PREFIX.exec(bytes.toString('latin1', 0, PREFIX_BYTES));
  if (own) return createChannelEventFromBytes(ownType(own), Number(own[2]), bytes);
  return parseForeign(bytes.toString('utf8'), (type, revision) =>
    createChannelEventFromBytes(type, revision, bytes),
  );
}

function ownType(match: RegExpExecArray): ChannelMessage['type'] {
  return match[1] === 'state' ? 'state' : 'deleted';
}

function parseForeign(
  raw: string,
  make: (type: ChannelMessage['type'], revision: number) => ChannelEvent,
): ChannelEvent | null {
  let decoded: unknown;
  try {
    decoded = JSON.parse(raw);
  } catch {
    return null;
  }
  const result = channelMessageSchema.safeParse(decoded);
  if (!result.success) return null;
  return make(result.data.type, result.data.revision);
}
