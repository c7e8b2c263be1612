// The `patch` message of a channel event: the RFC 6902 operations that take the state of
// the event it is linked to (`base`, the previous `state` this instance delivered on the
// channel) to its own. Only sockets that subscribed with `?patches=1` get it; a
// dashboard change usually touches one widget, so it is ~100-300 bytes instead of the
// whole state, for the kernel to copy and for each client to parse.
import { diffStates } from '@hyvve/schema';
import type { ChannelEvent } from './channel-event.js';

/** What a `patch` message says, before it is written out (see `patchMessageText`). */
export interface ChannelPatchParts {
  readonly revision: number;
  readonly baseRevision: number;
  readonly savedAt: number;
  readonly origin: string;
  /** The RFC 6902 operations as JSON text (an array). */
  readonly operations: string;
}

/** The `patch` message's JSON text. */
export function patchMessageText(parts: ChannelPatchParts): string {
  return `{"type":"patch","revision":${parts.revision},"baseRevision":${parts.baseRevision},"savedAt":${parts.savedAt},"origin":${JSON.stringify(parts.origin)},"patch":${parts.operations}}`;
}

/**
 * The `patch` message from `event.base` to `event`, or `null` when the full message
 * should be sent instead: no `state` base, or a patch whose JSON is more than half the
 * full message (little saved, and the client would apply it for nothing). Both states
 * are parsed once per event (cached by the event). Throws what diffing throws, e.g. for
 * a foreign publisher's `state` that is not an object.
 */
export function channelPatch(event: ChannelEvent): ChannelPatchParts | null {
  const base = event.base;
  if (base === undefined) return null;
  const next = event.message();
  const previous = base.message();
  if (next.type !== 'state' || previous.type !== 'state') return null;
  const operations = JSON.stringify(diffStates(previous.state, next.state));
  // Characters, not bytes, on both sides: no encoding of the full text just to compare.
  if (operations.length > event.raw.length / 2) return null;
  return {
    revision: event.revision,
    baseRevision: base.revision,
    savedAt: next.savedAt,
    origin: next.origin,
    operations,
  };
}
