// Reference-counted channel subscriptions shared by every local listener of a user:
// the store subscribes once per channel (on the first listener) and unsubscribes when
// the last one leaves. It also remembers the last revision delivered per channel, which
// de-duplicates messages and lets a store find what a pub/sub gap made it miss.
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
    this.notify(entry, event);
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
    if (event) this.notify(entry, event);
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
