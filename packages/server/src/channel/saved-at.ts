// The `savedAt` of a channel message, read from the head of its bytes: own messages
// (stateMessageParts) put it right after the revision, so the state is never decoded.

const SAVED_AT = /^\{"type":"state","revision":\d+,"savedAt":(\d+)[,}]/;
/** Enough for `{"type":"state","revision":<16 digits>,"savedAt":<16 digits>,`. */
const HEAD_BYTES = 80;

/** The message's `savedAt` (ms since the epoch), or undefined (a `deleted` message, another shape). */
export function savedAtOf(message: Buffer): number | undefined {
  const match = SAVED_AT.exec(message.toString('latin1', 0, HEAD_BYTES));
  return match ? Number(match[1]) : undefined;
}
