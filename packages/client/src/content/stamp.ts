// The stamp of a content: when it last changed (its `timestamp`) and which engine made
// it. Newer wins by stamp; equal timestamps are broken by origin, so every tab and device
// picks the same winner and concurrent edits converge instead of flapping.

export interface ContentStamp {
  /** `timestamp` of the content (its last persistable change). */
  timestamp: number;
  /** Engine that produced it. */
  origin: string;
}

/** Whether `incoming` wins over `current` (later timestamp, then greater origin). */
export function isNewer(incoming: ContentStamp, current: ContentStamp): boolean {
  if (incoming.timestamp !== current.timestamp) return incoming.timestamp > current.timestamp;
  return incoming.origin > current.origin;
}

export function sameStamp(a: ContentStamp, b: ContentStamp): boolean {
  return a.timestamp === b.timestamp && a.origin === b.origin;
}

/** Whether an unchecked value (from another tab) is a stamp. */
export function isStamp(value: unknown): value is ContentStamp {
  if (typeof value !== 'object' || value === null) return false;
  const { timestamp, origin } = value as Record<string, unknown>;
  return typeof timestamp === 'number' && typeof origin === 'string';
}

/** The stamp as a map key. */
export function stampKey(stamp: ContentStamp): string {
  return `${stamp.timestamp}:${stamp.origin}`;
}

/**
 * A timestamp newer than both `a` and `b` (so every tab and device takes the result over
 * either, and the server's newer-wins check never refuses it), and not behind this
 * device's clock: for a merge of two contents, and for a clear.
 */
export function timestampAfter(now: number, a: number, b: number): number {
  return Math.max(now, a + 1, b + 1);
}
