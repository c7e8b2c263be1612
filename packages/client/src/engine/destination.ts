// The one contract between the engine and the places its content goes: localStorage,
// the other tabs, the server. Like TinyBase's persister functions handed to one
// scheduler: the engine tells every destination the same few things (the content
// changed, write what is pending, this content you hold already), and each destination
// sees the engine's content through the same `LocalContent`, whatever it does with it.
import type { DashboardState } from '@hyvve/schema';
import type { ContentRefs } from '../content/refs.js';
import type { ContentStamp } from '../content/stamp.js';

/** What the engine tells each destination. */
export interface Destination {
  /**
   * This destination holds the content `refs` (stamped `stamp`) already: it came from
   * there, or whoever sent it writes it there too. Nothing is written for it.
   */
  hold(refs: ContentRefs, stamp: ContentStamp): void;
  /** The local content changed: write it, when this destination's pacing says. */
  notifyChange(): void;
  /** Write what is pending now (page closing, `flush()`, `stop()`). */
  flush(): void;
}

/** A destination that forwards to the one `target` returns now (none: nothing happens). */
export function forwardTo(target: () => Destination | null): Destination {
  return {
    hold: (refs, stamp) => target()?.hold(refs, stamp),
    notifyChange: () => target()?.notifyChange(),
    flush: () => target()?.flush(),
  };
}

/** The content now in the store, as every destination reads it. */
export interface CurrentContent {
  /** The persistable state; its `timestamp` is the content stamp's. */
  state: DashboardState;
  refs: ContentRefs;
  stamp: ContentStamp;
}

/** What a destination sees of the engine's content, and how it hands content back. */
export interface LocalContent {
  current(): CurrentContent;
  /** True while the store is empty and untouched: it takes any content, however old. */
  isPristine(): boolean;
  /** Validates (and migrates) a state from elsewhere; reports and returns null when invalid. */
  check(raw: unknown, source: string): DashboardState | null;
  /** Puts content from this destination in the store; returns the refs now there. */
  adopt(state: DashboardState, stamp: ContentStamp): ContentRefs;
  /**
   * Puts the merge of local changes with content from elsewhere in the store, stamped as
   * given, as this engine's own change (written everywhere like an edit).
   */
  merged(state: DashboardState): ContentRefs;
  /** The copy was cleared elsewhere: empties storage and store; returns the refs now there. */
  cleared(reason: string): ContentRefs;
}
