// What a socket that asked for patches (`?patches=1`) is sent for a change: the `patch`
// message when one is worth sending, else the full message every other socket gets.
// Built once per event per instance, by the first such socket that forwards it, and
// shared (payload and frame) by all the others, as `channelFrame` is. Patches that waited
// together for one socket leave as one message (`composePatchMessages`), also shared.

import type { ChannelEvent } from '../../channel/channel-event.js';
import {
  type ChannelPatchParts,
  channelPatch,
  patchMessageText,
} from '../../channel/channel-patch.js';
import { errorMessage, type Logger } from '../../logger.js';
import { channelFrame, textFrame } from './ws-frame.js';

/** A change as a `patch` message, shared by every patch socket of the instance. */
export interface PatchMessage extends ChannelPatchParts {
  readonly payload: Buffer;
  /** Framed on first use: a socket with an extension sends the payload instead. */
  frame: Buffer | undefined;
  /** Messages composed of a chain ending with this one, by the chain's base revision. */
  composed: Map<number, PatchMessage> | undefined;
}

/** A patch message of `parts`, its payload encoded once. */
export function createPatchMessage(parts: ChannelPatchParts): PatchMessage {
  return {
    ...parts,
    payload: Buffer.from(patchMessageText(parts), 'utf8'),
    frame: undefined,
    composed: undefined,
  };
}

/**
 * One patch message for a chain of them (each one's base the previous one's revision):
 * from the first's base to the last's revision, its operations those of every patch in
 * order (RFC 6902 applies them in sequence, so the reader lands on the last state, and
 * the states between are skipped: latest wins). Sockets that wrote together hold the same
 * chain, so the result is cached on the last message and shared like any patch.
 */
export function composePatchMessages(chain: readonly PatchMessage[]): PatchMessage {
  const first = chain[0];
  const last = chain[chain.length - 1];
  if (first === undefined || last === undefined) {
    throw new RangeError('composePatchMessages needs at least one patch');
  }
  if (chain.length === 1) return first;
  const cached = last.composed?.get(first.baseRevision);
  if (cached !== undefined) return cached;
  let operations = '';
  for (const patch of chain) {
    // Each is a JSON array: its elements, without the brackets, joined by commas.
    const elements = patch.operations.slice(1, -1);
    if (elements === '') continue;
    operations = operations === '' ? elements : `${operations},${elements}`;
  }
  const message = createPatchMessage({
    revision: last.revision,
    baseRevision: first.baseRevision,
    savedAt: last.savedAt,
    origin: last.origin,
    operations: `[${operations}]`,
  });
  last.composed ??= new Map();
  last.composed.set(first.baseRevision, message);
  return message;
}

/** Where a failed diff is reported: the socket's logger and its channel. */
export interface PatchContext {
  readonly logger: Logger;
  readonly channel: string;
}

// Keyed by the event, so a patch lives exactly as long as its event; `null` records that
// the full message goes instead, so a failed or oversized diff is not tried again.
const patches = new WeakMap<ChannelEvent, PatchMessage | null>();

/**
 * The `patch` message of `event` for a socket that takes patches (built on first use and
 * cached), or null when the full message goes instead. Marks the event as the base of
 * the channel's next change.
 */
export function patchMessage(event: ChannelEvent, context: PatchContext): PatchMessage | null {
  // This socket will want the next change as a patch against this one.
  event.keepAsBase = true;
  const cached = patches.get(event);
  if (cached !== undefined) return cached;
  // Without a base (a first change, a resync push, the change after a delete) there is
  // nothing to build, and nothing worth a cache entry.
  if (event.base === undefined) return null;
  const message = buildPatchMessage(event, context);
  patches.set(event, message);
  return message;
}

function buildPatchMessage(event: ChannelEvent, context: PatchContext): PatchMessage | null {
  try {
    const parts = channelPatch(event);
    return parts === null ? null : createPatchMessage(parts);
  } catch (error) {
    // The change still goes out, whole: a patch is only ever an optimisation.
    context.logger.warn(
      {
        channel: context.channel,
        revision: event.revision,
        baseRevision: event.base?.revision,
        err: errorMessage(error),
      },
      'diffing a state for a patch failed; sending the full state',
    );
    return null;
  }
}

/** The payload a patch socket is sent for `event` (for sockets that cannot take frames). */
export function patchPayload(event: ChannelEvent, context: PatchContext): Buffer {
  return patchMessage(event, context)?.payload ?? event.bytes();
}

/** The pre-encoded frame a patch socket is sent for `event`. */
export function patchFrame(event: ChannelEvent, context: PatchContext): Buffer {
  const message = patchMessage(event, context);
  return message === null ? channelFrame(event) : patchMessageFrame(message);
}

/** The frame of a patch message, built on first use and shared. */
export function patchMessageFrame(message: PatchMessage): Buffer {
  message.frame ??= textFrame(message.payload);
  return message.frame;
}
