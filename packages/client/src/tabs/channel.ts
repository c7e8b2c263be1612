// BroadcastChannel transport between tabs of one browser. Every message carries the
// sender's origin id and the storage key: a tab drops its own messages and those of
// engines persisting another key. What to do with a message is the engine's business.
import type { DashboardState } from '@hyvve/schema';
import type { ContentStamp } from '../content/stamp.js';
import { CrossTabError } from '../errors.js';
import type { ContentChanges } from './delta.js';

/** The part of BroadcastChannel the engine uses; the browser's and Node's both fit. */
export interface ChannelLike {
  postMessage(message: unknown): void;
  close(): void;
  addEventListener(type: 'message', listener: (event: { data: unknown }) => void): void;
  removeEventListener(type: 'message', listener: (event: { data: unknown }) => void): void;
}

export type ChannelFactory = (name: string) => ChannelLike;

export type TabMessage =
  /** A tab's full current state: its first message, and the answer to `hello`. */
  /** `author` is the engine that produced the content (the sender, unless it relays). */
  /** `base`: the content the change was made on, when peers are believed to hold it. */
  | {
      type: 'state';
      key: string;
      origin: string;
      state: DashboardState;
      author: string;
      base?: ContentStamp;
    }
  /** What changed since the content stamped `base` (a delta, delta.ts); `stamp` is the result's. */
  | {
      type: 'patch';
      key: string;
      origin: string;
      base: ContentStamp;
      stamp: ContentStamp;
      changes: ContentChanges;
    }
  /** Asks peers (or only the one named `to`) for their full state: on start, or after a delta it could not apply. */
  | { type: 'hello'; key: string; origin: string; to?: string }
  /** Persisted state was cleared (logout): every tab clears too. */
  | { type: 'clear'; key: string; origin: string };

export interface CrossTabHandlers {
  /** Unchecked: whoever posts on the channel may run another app version. */
  onState(message: { state: unknown; author: unknown; base?: unknown }, origin: string): void;
  /** Unchecked as well. */
  onDelta(message: { base: unknown; stamp: unknown; changes: unknown }, origin: string): void;
  onHello(origin: string): void;
  onClear(origin: string): void;
}

export interface CrossTab {
  postState(state: DashboardState, author: string, base?: ContentStamp): void;
  postDelta(base: ContentStamp, stamp: ContentStamp, changes: ContentChanges): void;
  /** `to` limits the answer to one peer. */
  postHello(to?: string): void;
  postClear(): void;
  close(): void;
}

export interface CrossTabOptions {
  channelName: string;
  storageKey: string;
  origin: string;
  createChannel: ChannelFactory;
  handlers: CrossTabHandlers;
  onError: (error: CrossTabError) => void;
}

function isTabMessage(data: unknown): data is TabMessage {
  if (typeof data !== 'object' || data === null) return false;
  const { type, key, origin } = data as Record<string, unknown>;
  return (
    (type === 'state' || type === 'patch' || type === 'hello' || type === 'clear') &&
    typeof key === 'string' &&
    typeof origin === 'string'
  );
}

/** Opens the channel. Returns null (after reporting) when BroadcastChannel cannot be opened. */
export function openCrossTab(options: CrossTabOptions): CrossTab | null {
  const { channelName, storageKey: key, origin, handlers, onError } = options;
  let channel: ChannelLike;
  try {
    channel = options.createChannel(channelName);
  } catch (error) {
    onError(new CrossTabError('open', error));
    return null;
  }

  const onMessage = (event: { data: unknown }): void => {
    const message = event.data;
    if (!isTabMessage(message) || message.key !== key || message.origin === origin) return;
    switch (message.type) {
      case 'state':
        handlers.onState(message, message.origin);
        return;
      case 'patch':
        handlers.onDelta(message, message.origin);
        return;
      case 'hello':
        if (message.to === undefined || message.to === origin) handlers.onHello(message.origin);
        return;
      case 'clear':
        handlers.onClear(message.origin);
    }
  };
  channel.addEventListener('message', onMessage);

  const post = (message: TabMessage): void => {
    try {
      channel.postMessage(message);
    } catch (error) {
      // e.g. DataCloneError, or posting on a channel the browser already closed.
      onError(new CrossTabError('post', error));
    }
  };

  let closed = false;
  return {
    postState: (state, author, base) =>
      post(
        base === undefined
          ? { type: 'state', key, origin, state, author }
          : { type: 'state', key, origin, state, author, base },
      ),
    postDelta: (base, stamp, changes) => post({ type: 'patch', key, origin, base, stamp, changes }),
    postHello: (to) =>
      post(to === undefined ? { type: 'hello', key, origin } : { type: 'hello', key, origin, to }),
    postClear: () => post({ type: 'clear', key, origin }),
    close() {
      if (closed) return;
      closed = true;
      channel.removeEventListener('message', onMessage);
      channel.close();
    },
  };
}
