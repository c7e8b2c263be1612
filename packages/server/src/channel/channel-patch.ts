// The `patch` message of a channel event: the RFC 6902 operations that take the state of
// the event it is linked to (`base`, the previous `state` this instance delivered on the
// channel) to its own. Only sockets that subscribed with `?patches=1` get it; a
// dashboard change usually touches one widget, so it is ~100-300 bytes instead of the
// whole state, for the kernel to copy and for each client to parse.
import { diffStates } from '@hyvve/schema';
import type { ChannelEvent, ChannelPatchParts } from './channel-event.js';

/** What a saver knows of the state it is about to store, to diff it before publishing. */
export interface SavedStateForPatch {
  /** The validated state (read-only). */
  readonly state: object;
  /** Its JSON, as stored and published. */
  readonly stateJson: string;
  readonly savedAt: number;
  readonly origin: string;
}

export type { ChannelPatchParts };

/** The `patch` message's JSON text. */
export function patchMessageText(parts: ChannelPatchParts): string {
  return `{"type":"patch","revision":${parts.revision},"baseRevision":${parts.baseRevision},"savedAt":${parts.savedAt},"origin":${JSON.stringify(parts.origin)},"patch":${parts.operations}}`;
}

/**
 * Whether a patch pays against sending `full` (the state or its message): at most half its
 * size. Characters, not bytes, on both sides: no encoding of the full text just to compare.
 */
function worthAPatch(operations: string, full: string): boolean {
  return operations.length <= full.length / 2;
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
  // The saver diffed it already, against the base this instance holds: nothing to parse.
  const published = event.publishedPatch;
  if (published !== undefined && published.baseRevision === base.revision) return published;
  const next = event.message();
  const previous = base.message();
  if (next.type !== 'state' || previous.type !== 'state') return null;
  const operations = JSON.stringify(diffStates(previous.state, next.state));
  if (!worthAPatch(operations, event.raw)) return null;
  return {
    revision: event.revision,
    baseRevision: base.revision,
    savedAt: next.savedAt,
    origin: next.origin,
    operations,
  };
}

/**
 * The tail of the `patch` message that takes `base` (the channel's previous `state` on
 * this instance) to `saved`: everything after `{"type":"patch","revision":`, as the save
 * script publishes it once the revision is known. '' when there is nothing worth
 * publishing (the same half-size rule as `channelPatch`).
 *
 * Every instance with patch subscribers used to parse each state and diff it against its
 * base: two 10 KB parses and a diff per instance and save. The saver has the new state
 * parsed already and diffs once; an instance holding the same base forwards that patch.
 * Others (another base, or no patch published) still compute their own, as before.
 */
export function publishedPatchTail(base: ChannelEvent, saved: SavedStateForPatch): string {
  const previous = base.message();
  if (previous.type !== 'state') return '';
  const operations = JSON.stringify(diffStates(previous.state, saved.state));
  if (!worthAPatch(operations, saved.stateJson)) return '';
  return `,"baseRevision":${base.revision},"savedAt":${saved.savedAt},"origin":${JSON.stringify(saved.origin)},"patch":${operations}}`;
}

/** A published `patch` message starts so (then its revision); no state message does. */
export const PUBLISHED_PATCH_PREFIX = '{"type":"patch","revision":';
const PREFIX_BYTES = Buffer.from(PUBLISHED_PATCH_PREFIX, 'latin1');

/** Whether a channel message (as received) is a saver's `patch`, not a change. */
export function isPublishedPatch(raw: Buffer): boolean {
  return (
    raw.length > PREFIX_BYTES.length &&
    raw.compare(PREFIX_BYTES, 0, PREFIX_BYTES.length, 0, PREFIX_BYTES.length) === 0
  );
}

/** The parts of a published `patch` message, or `null` when it is not a well-formed one. */
export function parsePublishedPatch(raw: Buffer): ChannelPatchParts | null {
  let decoded: unknown;
  try {
    decoded = JSON.parse(raw.toString('utf8'));
  } catch {
    return null;
  }
  if (typeof decoded !== 'object' || decoded === null) return null;
  const { revision, baseRevision, savedAt, origin, patch } = decoded as Record<string, unknown>;
  if (
    !Number.isSafeInteger(revision) ||
    !Number.isSafeInteger(baseRevision) ||
    (baseRevision as number) >= (revision as number) ||
    typeof savedAt !== 'number' ||
    typeof origin !== 'string' ||
    !Array.isArray(patch)
  ) {
    return null;
  }
  return {
    revision: revision as number,
    baseRevision: baseRevision as number,
    savedAt,
    origin,
    operations: JSON.stringify(patch),
  };
}
