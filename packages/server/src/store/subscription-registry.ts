// Reference-counted channel subscriptions shared by every local listener of a user:
// the store subscribes once per channel (on the first listener) and unsubscribes when
// the last one leaves. It also remembers the last revision delivered per channel, which
// de-duplicates messages and lets a store find what a pub/sub gap made it miss. For
// sockets that take patches it keeps the last `state` delivered per channel, the base
// the next one is diffed against (see `ChannelEvent.base` and `keepAsBase`).
import type { StateScope } from '../keys.js';
import { errorMessage, type Logger } from '../logger.js';
import type { ChannelEvent } from './channel-event.js';
import type { ChannelListener, Subscription } from './state-store.js';

export interface ChannelHooks {
  /** Subscribes the channel in the store, then resolves with its current revision. */
  open(scope: StateScope): Promise<number>;
  /** Unsubscribes the channel in the store (best effort: the registry has already let it go). */
  close(scope: StateScope): Promise<void>;
}

interface ChannelEntry {
  readonly scope: StateScope;
  readonly listeners: Set<ChannelListener>;
  /** Listeners waiting for `opened`: the channel must not be closed under them. */
  waiting: number;
  /** Highest revision delivered (or known at subscribe time) on this channel. */
  revision: number;
  /**
   * The `state` delivered last (a resync push included) when a listener asked to keep it;
   * undefined after a deletion, when what listeners hold is unknown, or nobody takes patches.
   */
  base: ChannelEvent | undefined;
  readonly opened: Promise<void>;
}

export class SubscriptionRegistry {
  private readonly entries = new Map<string, ChannelEntry>();

  constructor(
    private readonly hooks: ChannelHooks,
    private readonly logger: Logger,
  ) {}

  async add(scope: StateScope, listener: ChannelListener): Promise<Subscription> {
    const entry = this.entries.get(scope.channel) ?? this.open(scope);
    entry.waiting += 1;
    try {
      await entry.opened;
    } finally {
      entry.waiting -= 1;
    }
    // Attached in the same tick as `revision` is read: every event after it reaches the listener.
    entry.listeners.add(listener);
    let attached = true;
    return {
      revision: entry.revision,
      unsubscribe: async () => {
        if (!attached) return;
        attached = false;
        entry.listeners.delete(listener);
        await this.release(entry);
      },
    };
  }

  /** Delivers an event to the channel's listeners unless it is not newer than the last one. */
  deliver(channel: string, event: ChannelEvent): boolean {
    const entry = this.entries.get(channel);
    if (!entry || event.revision <= entry.revision) return false;
    entry.revision = event.revision;
    if (event.type === 'state') event.base = entry.base;
    this.notify(entry, event);
    // Listeners forward (and build a patch) synchronously: from here on the link would
    // only hold a second state per channel in memory. A socket still joining sends it whole.
    event.base = undefined;
    this.keep(entry, event);
    return true;
  }

  /**
   * Brings a channel to the store's current revision after a pub/sub gap. `event` is what
   * the listeners should see when the revision moved (the state, or `deleted`), or `null`
   * when nothing is stored. A revision lower than the delivered one means the store lost
   * its data (e.g. Redis restarted empty): the counter is reset so later saves get through.
   */
  reconcile(
    channel: string,
    revision: number,
    event: ChannelEvent | null,
  ): 'pushed' | 'same' | 'reset' {
    const entry = this.entries.get(channel);
    if (!entry || revision === entry.revision) return 'same';
    const lost = revision < entry.revision;
    entry.revision = revision;
    // A resync push goes out whole, as a catch-up always has; the next change can be a
    // patch against it. Without one, what the listeners hold is unknown: no base.
    if (event) {
      event.base = undefined;
      this.notify(entry, event);
    }
    this.keep(entry, event);
    return lost ? 'reset' : 'pushed';
  }

  /** Scopes of every channel that has (or is getting) local listeners. */
  scopes(): StateScope[] {
    return [...this.entries.values()].map((entry) => entry.scope);
  }

  has(channel: string): boolean {
    return this.entries.has(channel);
  }

  revisionOf(channel: string): number | undefined {
    return this.entries.get(channel)?.revision;
  }

  get size(): number {
    return this.entries.size;
  }

  /** Drops every entry without unsubscribing (the store is closing its connections). */
  clear(): void {
    this.entries.clear();
  }

  private open(scope: StateScope): ChannelEntry {
    let resolveOpened: (revision: number) => void = () => {};
    let rejectOpened: (error: unknown) => void = () => {};
    const revision = new Promise<number>((resolve, reject) => {
      resolveOpened = resolve;
      rejectOpened = reject;
    });
    const entry: ChannelEntry = {
      scope,
      listeners: new Set(),
      waiting: 0,
      revision: 0,
      base: undefined,
      opened: revision.then((current) => {
        // An event may already have arrived between SUBSCRIBE and the revision read.
        entry.revision = Math.max(entry.revision, current);
      }),
    };
    this.entries.set(scope.channel, entry);
    this.hooks.open(scope).then(resolveOpened, (error: unknown) => {
      if (this.entries.get(scope.channel) === entry) this.entries.delete(scope.channel);
      rejectOpened(error);
    });
    // Waiters observe the rejection; this keeps an unobserved copy from being reported.
    entry.opened.catch(() => {});
    return entry;
  }

  private async release(entry: ChannelEntry): Promise<void> {
    if (entry.listeners.size > 0 || entry.waiting > 0) return;
    if (this.entries.get(entry.scope.channel) !== entry) return;
    this.entries.delete(entry.scope.channel);
    try {
      await this.hooks.close(entry.scope);
    } catch (error) {
      this.logger.debug(
        { channel: entry.scope.channel, err: errorMessage(error) },
        'unsubscribe failed; the channel is no longer wanted',
      );
    }
  }

  /** Keeps `event` as the base of the channel's next change, if a listener asked for it. */
  private keep(entry: ChannelEntry, event: ChannelEvent | null): void {
    entry.base = event?.type === 'state' && event.keepAsBase ? event : undefined;
  }

  private notify(entry: ChannelEntry, event: ChannelEvent): void {
    for (const listener of entry.listeners) {
      try {
        listener(event);
      } catch (error) {
        this.logger.error(
          {
            workspaceId: entry.scope.workspaceId,
            userId: entry.scope.userId,
            revision: event.revision,
            err: errorMessage(error),
          },
          'channel listener threw',
        );
      }
    }
  }
}
