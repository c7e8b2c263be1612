// Reference-counted channel subscriptions shared by every local listener of a user:
// the store subscribes once per channel (on the first listener) and unsubscribes when
// the last one leaves. It also remembers the last revision delivered per channel, which
// de-duplicates messages and lets a store find what a pub/sub gap made it miss. For
// sockets that take patches it keeps the last `state` delivered per channel, the base
// the next one is diffed against (see `ChannelEvent.base` and `keepAsBase`).
// Revisions only grow within an epoch (state-store.ts `ChannelHead`): a message whose
// revision is not above the delivered one is stale, unless the counter was reset (a new
// epoch, or the store lost its data), which listeners are told as a reset.
// An epoch '' (no counter when the channel was opened) is learned from the first change
// that names one (memory store) or, as Redis messages name none, from a read of the
// channel's head the first change makes the store do (`hooks.readEpoch`); listeners are
// told (an `EpochListener`), and it costs nothing once the epoch is known.

import type { ChannelEvent } from '../channel/channel-event.js';
import { errorMessage, type Logger } from '../logger.js';
import type { StateScope } from '../scope.js';
import type {
  ChannelHead,
  ChannelListener,
  EpochListener,
  ResetListener,
  Subscription,
} from './state-store.js';

export interface ChannelHooks {
  /** Subscribes the channel in the store, then resolves with its current revision and epoch. */
  open(scope: StateScope): Promise<ChannelHead>;
  /** Unsubscribes the channel in the store (best effort: the registry has already let it go). */
  close(scope: StateScope): Promise<void>;
  /**
   * A message came without its epoch and with a revision not above the delivered one:
   * a duplicate, or the first save after the counter was reset. The store compares the
   * channel with what it holds and calls `reconcile`.
   */
  check?(scope: StateScope): void;
  /**
   * A change without its epoch was delivered on a channel whose epoch is unknown (''):
   * its counter exists now. The store reads the channel's head and calls `learnEpoch`.
   */
  readEpoch?(scope: StateScope): void;
}

interface ChannelEntry {
  readonly scope: StateScope;
  /** Each listener with its reset and epoch listeners, if it gave them. */
  readonly listeners: Map<ChannelListener, HeadListeners>;
  /** Listeners waiting for `opened`: the channel must not be closed under them. */
  waiting: number;
  /** Highest revision delivered (or known at subscribe time) on this channel. */
  revision: number;
  /** Epoch of the counter of that revision ('' while unknown). */
  epoch: string;
  /**
   * The `state` delivered last (a resync push included) when a listener asked to keep it;
   * undefined after a deletion, when what listeners hold is unknown, or nobody takes patches.
   */
  base: ChannelEvent | undefined;
  readonly opened: Promise<void>;
}

interface HeadListeners {
  readonly onReset: ResetListener | undefined;
  readonly onEpoch: EpochListener | undefined;
}

export class SubscriptionRegistry {
  private readonly entries = new Map<string, ChannelEntry>();

  constructor(
    private readonly hooks: ChannelHooks,
    private readonly logger: Logger,
  ) {}

  async add(
    scope: StateScope,
    listener: ChannelListener,
    onReset?: ResetListener,
    onEpoch?: EpochListener,
  ): Promise<Subscription> {
    const entry = this.entries.get(scope.channel) ?? this.open(scope);
    entry.waiting += 1;
    try {
      await entry.opened;
    } finally {
      entry.waiting -= 1;
    }
    // Attached in the same tick as `revision` is read: every event after it reaches the listener.
    entry.listeners.set(listener, { onReset, onEpoch });
    let attached = true;
    return {
      revision: entry.revision,
      epoch: entry.epoch,
      unsubscribe: async () => {
        if (!attached) return;
        attached = false;
        entry.listeners.delete(listener);
        await this.release(entry);
      },
    };
  }

  /**
   * Delivers an event to the channel's listeners unless it is not newer than the last
   * one. `epoch`: the epoch the event was made in, when the store knows it (memory);
   * another one than the delivered one resets the channel. Without it (Redis messages),
   * a revision that is not newer asks the store to check the channel (`hooks.check`),
   * and a change on a channel whose epoch is unknown to read it (`hooks.readEpoch`);
   * once the epoch is known a newer revision costs nothing more (the fan-out hot path).
   */
  deliver(channel: string, event: ChannelEvent, epoch?: string): boolean {
    const entry = this.entries.get(channel);
    if (!entry) return false;
    if (epoch !== undefined && epoch !== entry.epoch) {
      if (entry.epoch !== '') {
        this.reset(entry, { revision: event.revision, epoch }, event);
        return true;
      }
      // Listeners hear the change first: the epoch they are told belongs to its revision.
      const newer = event.revision > entry.revision;
      if (newer) this.forward(entry, event);
      this.learn(entry, epoch);
      return newer;
    }
    if (event.revision <= entry.revision) {
      if (epoch === undefined) this.hooks.check?.(entry.scope);
      return false;
    }
    this.forward(entry, event);
    // The counter exists now (a change was made), but the message did not name its epoch.
    if (epoch === undefined && entry.epoch === '') this.hooks.readEpoch?.(entry.scope);
    return true;
  }

  private forward(entry: ChannelEntry, event: ChannelEvent): void {
    entry.revision = event.revision;
    if (event.type === 'state') event.base = entry.base;
    this.notify(entry, event);
    // Listeners forward (and build a patch) synchronously: from here on the link would
    // only hold a second state per channel in memory. A socket still joining sends it whole.
    event.base = undefined;
    this.keep(entry, event);
  }

  /**
   * Brings a channel to the store's current head after a pub/sub gap. `event` is what
   * the listeners should see when the revision moved (the state, or `deleted`), or `null`
   * when nothing is stored. Another epoch than the delivered one (unless that was still
   * unknown), or a revision lower than the delivered one, means the counter was reset
   * (e.g. Redis restarted empty): listeners are told so, then get the event.
   */
  reconcile(
    channel: string,
    head: ChannelHead,
    event: ChannelEvent | null,
  ): 'pushed' | 'same' | 'reset' {
    const entry = this.entries.get(channel);
    if (!entry) return 'same';
    const newEpoch = entry.epoch !== '' && head.epoch !== entry.epoch;
    if (newEpoch || head.revision < entry.revision) {
      this.reset(entry, head, event);
      return 'reset';
    }
    if (head.revision === entry.revision) {
      this.learn(entry, head.epoch);
      return 'same';
    }
    entry.revision = head.revision;
    this.push(entry, event);
    this.learn(entry, head.epoch);
    return 'pushed';
  }

  /**
   * The store read the head of a channel whose epoch was unknown (`hooks.readEpoch`).
   * Changes keep arriving as messages, so nothing is pushed from the read: only the epoch
   * is learned. A head below the delivered revision is no place for it (the counter went
   * back since): the store is asked to compare the channel (`hooks.check`).
   */
  learnEpoch(channel: string, head: ChannelHead): void {
    const entry = this.entries.get(channel);
    if (entry?.epoch !== '' || head.epoch === '') return;
    if (head.revision < entry.revision) {
      this.hooks.check?.(entry.scope);
      return;
    }
    this.learn(entry, head.epoch);
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

  epochOf(channel: string): string | undefined {
    return this.entries.get(channel)?.epoch;
  }

  get size(): number {
    return this.entries.size;
  }

  /** Drops every entry without unsubscribing (the store is closing its connections). */
  clear(): void {
    this.entries.clear();
  }

  /**
   * The channel's epoch was unknown ('') and is `epoch` now, the counter the delivered
   * revision belongs to (created after the channel was opened, or an epoch-less counter
   * of before epochs given one): not a reset. Listeners are told the head.
   */
  private learn(entry: ChannelEntry, epoch: string): void {
    if (entry.epoch !== '' || epoch === '') return;
    entry.epoch = epoch;
    const head = { revision: entry.revision, epoch };
    for (const { onEpoch } of entry.listeners.values()) {
      if (onEpoch) this.call(entry, head.revision, () => onEpoch(head));
    }
  }

  /** The counter was reset: listeners start over from `head`, then get `event` if there is one. */
  private reset(entry: ChannelEntry, head: ChannelHead, event: ChannelEvent | null): void {
    entry.epoch = head.epoch;
    entry.revision = head.revision;
    for (const { onReset } of entry.listeners.values()) {
      if (onReset) this.call(entry, head.revision, () => onReset(head));
    }
    this.push(entry, event);
  }

  /** A catch-up push goes out whole; the next change can be a patch against it. */
  private push(entry: ChannelEntry, event: ChannelEvent | null): void {
    // Without an event, what the listeners hold is unknown: no base.
    if (event) {
      event.base = undefined;
      this.notify(entry, event);
    }
    this.keep(entry, event);
  }

  private open(scope: StateScope): ChannelEntry {
    let resolveOpened: (head: ChannelHead) => void = () => {};
    let rejectOpened: (error: unknown) => void = () => {};
    const head = new Promise<ChannelHead>((resolve, reject) => {
      resolveOpened = resolve;
      rejectOpened = reject;
    });
    const entry: ChannelEntry = {
      scope,
      listeners: new Map(),
      waiting: 0,
      revision: 0,
      epoch: '',
      base: undefined,
      opened: head.then((current) => {
        // An event may already have arrived between SUBSCRIBE and the revision read.
        entry.revision = Math.max(entry.revision, current.revision);
        // An epoch learned meanwhile (re-read after that event) is kept if the read saw none.
        entry.epoch = current.epoch || entry.epoch;
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

  /**
   * The `state` the channel's next change will be diffed against here (see `keep`):
   * a saver on this instance diffs its new state against it once, for every instance.
   */
  patchBase(channel: string): ChannelEvent | undefined {
    return this.entries.get(channel)?.base;
  }

  /** Keeps `event` as the base of the channel's next change, if a listener asked for it. */
  private keep(entry: ChannelEntry, event: ChannelEvent | null): void {
    entry.base = event?.type === 'state' && event.keepAsBase ? event : undefined;
  }

  private notify(entry: ChannelEntry, event: ChannelEvent): void {
    for (const listener of entry.listeners.keys()) {
      this.call(entry, event.revision, () => listener(event));
    }
  }

  /** Runs one listener; one that throws is logged and does not stop the others. */
  private call(entry: ChannelEntry, revision: number, run: () => void): void {
    try {
      run();
    } catch (error) {
      this.logger.error(
        {
          workspaceId: entry.scope.workspaceId,
          userId: entry.scope.userId,
          revision,
          err: errorMessage(error),
        },
        'channel listener threw',
      );
    }
  }
}
