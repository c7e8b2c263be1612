// BroadcastChannel transport between tabs of one browser. Every message carries the
// sender's origin id, the storage key and the owner of its content (content/owner.ts): a
// tab drops its own messages, those of engines persisting another key, and those of
// another owner (another person signed in in that tab). What to do with a message is
// the engine's business.
import type { DashboardState } from '@hyvve/schema';
import { type Owner, readOwner, sameOwner } from '../content/owner.js';
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

/** Fields every message carries; `owner` is absent when the sending engine has none. */
interface Envelope {
  key: string;
  origin: string;
  owner?: Owner;
}

/** What a message says, by type. */
export type TabMessageBody =
  /** A tab's full current state: its first message, and the answer to `hello`. */
  /** `author` is the engine that produced the content (the sender, unless it relays). */
  /** `base`: the content the change was made on, when peers are believed to hold it. */
  | {
      type: 'state';
      state: DashboardState;
      author: string;
      base?: ContentStamp | undefined;
    }
  /** What changed since the content stamped `base` (a delta, delta.ts); `stamp` is the result's. */
  | {
      type: 'patch';
      base: ContentStamp;
      stamp: ContentStamp;
      changes: ContentChanges;
    }
  /** Asks peers (or only the one named `to`) for their full state: on start, or after a delta it could not apply. */
  | { type: 'hello'; to?: string | undefined }
  /**
   * Persisted state was cleared: every tab clears too. `scope` `local` (sign-out): this
   * browser's copies only; `everywhere` (or absent, as older versions sent it): the
   * server copy is being deleted too.
   */
  | { type: 'clear'; scope?: ClearScope };

export type TabMessage = Envelope & TabMessageBody;

/** What a clear covers: this browser's copies, or the server copy as well. */
export type ClearScope = 'local' | 'everywhere';

export interface CrossTabHandlers {
  /** Unchecked: whoever posts on the channel may run another app version. */
  onState(message: { state: unknown; author: unknown; base?: unknown }, origin: string): void;
  /** Unchecked as well. */
  onDelta(message: { base: unknown; stamp: unknown; changes: unknown }, origin: string): void;
  /** `directed`: the hello named this tab (`to`), rather than asking every tab. */
  onHello(origin: string, directed: boolean): void;
  onClear(origin: string, scope: ClearScope): void;
}

export interface CrossTab {
  postState(state: DashboardState, author: string, base?: ContentStamp): void;
  postDelta(base: ContentStamp, stamp: ContentStamp, changes: ContentChanges): void;
  /** `to` limits the answer to one peer. */
  postHello(to?: string): void;
  postClear(scope: ClearScope): void;
  close(): void;
}

export interface CrossTabOptions {
  channelName: string;
  storageKey: string;
  origin: string;
  createChannel: ChannelFactory;
  handlers: CrossTabHandlers;
  onError: (error: CrossTabError) => void;
  /** Whose content this tab holds now: named in what it sends, compared with what it gets. */
  owner?: () => Owner | null;
  /** A message of another origin on this key arrived (whatever its owner): a peer is there. */
  onPeer?: () => void;
  /** A message of another owner was dropped (for the log). */
  onOtherOwner?: (message: { type: string; origin: string; owner: Owner | undefined }) => void;
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
  const ownerNow = options.owner ?? (() => null);
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
    options.onPeer?.();
    const owner = readOwner(message.owner);
    // A clear naming nobody (`clearPersistedState()` where no engine runs) is for every tab.
    const forEveryone = message.type === 'clear' && owner === undefined;
    if (!forEveryone && !sameOwner(owner, ownerNow())) {
      options.onOtherOwner?.({ type: message.type, origin: message.origin, owner });
      return;
    }
    switch (message.type) {
      case 'state':
        handlers.onState(message, message.origin);
        return;
      case 'patch':
        handlers.onDelta(message, message.origin);
        return;
      case 'hello':
        if (message.to === undefined || message.to === origin) {
          handlers.onHello(message.origin, message.to !== undefined);
        }
        return;
      case 'clear':
        handlers.onClear(message.origin, message.scope === 'local' ? 'local' : 'everywhere');
    }
  };
  channel.addEventListener('message', onMessage);

  const post = (body: TabMessageBody): void => {
    // No owner goes as undefined, which receivers read as none (`readOwner`).
    const message = { ...body, key, origin, owner: ownerNow() ?? undefined };
    try {
      channel.postMessage(message);
    } catch (error) {
      // e.g. DataCloneError, or posting on a channel the browser already closed.
      onError(new CrossTabError('post', error));
    }
  };

  let closed = false;
  return {
    // An absent `base` or `to` is posted as undefined: receivers read it as absent.
    postState: (state, author, base) => post({ type: 'state', state, author, base }),
    postDelta: (base, stamp, changes) => post({ type: 'patch', base, stamp, changes }),
    postHello: (to) => post({ type: 'hello', to }),
    postClear: (scope) => post({ type: 'clear', scope }),
    close() {
      if (closed) return;
      closed = true;
      channel.removeEventListener('message', onMessage);
      channel.close();
    },
  };
}
