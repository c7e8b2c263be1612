// A message of a user's channel, built and parsed once per instance: every local
// WebSocket gets the same text (and the same encoded bytes), never a re-serialisation.
import { type ChannelMessage, channelMessageSchema } from '@hyvve/schema';

export interface ChannelEvent {
  readonly type: ChannelMessage['type'];
  readonly revision: number;
  /** JSON text as published; it is also a valid `ServerMessage`, so sockets get it as is. */
  readonly raw: string;
  /** The parsed message, decoded on first use only. */
  message(): ChannelMessage;
  /** UTF-8 bytes of `raw`, encoded on first use only and shared by every socket. */
  bytes(): Buffer;
}

/**
 * Text of a `state` message. The state JSON is spliced in as is: it was validated and
 * serialised once by the save, and the Redis script builds the same text the same way.
 */
export function stateMessageText(
  stateJson: string,
  revision: number,
  savedAt: number,
  origin: string,
): string {
  return `{"type":"state","revision":${revision},"savedAt":${savedAt},"origin":${JSON.stringify(origin)},"state":${stateJson}}`;
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
  let message = parsed;
  let bytes: Buffer | undefined;
  return {
    type,
    revision,
    raw,
    message() {
      if (message === undefined) {
        // Our own messages are built from states validated on save, so they are trusted
        // here; foreign ones were checked with the schema before this event was made.
        const decoded: ChannelMessage = JSON.parse(raw);
        message = decoded;
      }
      return message;
    },
    bytes() {
      bytes ??= Buffer.from(raw, 'utf8');
      return bytes;
    },
  };
}

// Messages built by stateMessageText/deletedMessageText (and the Lua scripts) start like
// this, so their type and revision are read without decoding a state of up to 1 MB.
const OWN_PREFIX = /^\{"type":"(state|deleted)","revision":(\d+)[,}]/;

/** Parses a message received on a channel; `null` when it is not a channel message. */
export function parseChannelEvent(raw: string): ChannelEvent | null {
  const own = OWN_PREFIX.exec(raw);
  if (own) {
    const type = own[1] === 'state' ? 'state' : 'deleted';
    return createChannelEvent(type, Number(own[2]), raw);
  }
  let decoded: unknown;
  try {
    decoded = JSON.parse(raw);
  } catch {
    return null;
  }
  const result = channelMessageSchema.safeParse(decoded);
  if (!result.success) return null;
  const { type, revision } = result.data;
  return createChannelEvent(type, revision, raw);
}
