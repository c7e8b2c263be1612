// Browser defaults for what the engine touches, each resolved only when asked for and
// each `null` where it does not exist (SSR, old browsers, storage disabled by policy).

import type { StateStorage } from './storage/envelope.js';
import type { ChannelFactory } from './tabs/channel.js';
import type { LockManagerLike } from './tabs/leader.js';

/** The window events the engine listens to (`pagehide` flushes, `online` reconnects). */
export interface WindowEvents {
  addEventListener(type: 'pagehide' | 'online', listener: () => void): void;
  removeEventListener(type: 'pagehide' | 'online', listener: () => void): void;
}

/** The document, for flushing when the page becomes hidden. */
export interface VisibilitySource {
  readonly visibilityState: string;
  addEventListener(type: 'visibilitychange', listener: () => void): void;
  removeEventListener(type: 'visibilitychange', listener: () => void): void;
}

export interface Lifecycle {
  window?: WindowEvents | null;
  document?: VisibilitySource | null;
}

export const isBrowser = (): boolean => typeof window !== 'undefined';

/**
 * `window.localStorage`, or null on the server or when access throws: reading the
 * property itself throws (SecurityError) when storage is blocked by policy; `onBlocked`
 * hears about it.
 */
export function browserStorage(onBlocked?: (error: unknown) => void): StateStorage | null {
  if (!isBrowser()) return null;
  try {
    return window.localStorage ?? null;
  } catch (error) {
    onBlocked?.(error);
    return null;
  }
}

export function browserChannelFactory(): ChannelFactory | null {
  if (typeof BroadcastChannel === 'undefined') return null;
  return (name) => new BroadcastChannel(name);
}

/**
 * `navigator.locks` (Web Locks) in a browser, else null: Node has it too (v24), but engines
 * in one process are no browser's tabs (pass `server.locks` to share there).
 */
export function browserLocks(): LockManagerLike | null {
  if (!isBrowser()) return null;
  return (navigator as { locks?: LockManagerLike }).locks ?? null;
}

export function browserLifecycle(): Lifecycle {
  if (!isBrowser()) return {};
  return { window, document: typeof document === 'undefined' ? null : document };
}

export function pageUrl(): string | undefined {
  return typeof location === 'undefined' ? undefined : location.href;
}

/** A random id for this engine instance; it tags every message it sends. */
export function randomOrigin(): string {
  if (typeof crypto !== 'undefined' && typeof crypto.randomUUID === 'function') {
    return crypto.randomUUID();
  }
  return `${Date.now().toString(36)}-${Math.random().toString(36).slice(2)}`;
}
