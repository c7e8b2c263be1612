// Cross-tab sync over the BroadcastChannel transport (channel.ts): broadcast local
// changes fast (coalesced by a short throttle; as deltas when peers hold the base),
// answer `hello` so a tab opened later is seeded, clear on `clear`. A peer's change made
// on content this tab has changed since is merged with this tab's changes (three-way,
// against that base, kept in a short history of contents) instead of one replacing the
// other; without a known base, newer content wins. Receiving never sends, except a
// `hello` to the one sender of a delta it cannot apply and a merge (a change of this
// tab's own, broadcast like an edit); merges of the same pair give the same content on
// every tab, so tabs settle instead of ping-ponging.
import { type DashboardState, mergeDashboardStates } from '@hyvve/schema';
import { describeOwner, type Owner } from '../content/owner.js';
import {
  type ContentRefs,
  isEmptyDashboard,
  sameContent,
  sameStateContent,
} from '../content/refs.js';
import {
  type ContentStamp,
  isNewer,
  isStamp,
  sameStamp,
  stampKey,
  timestampAfter,
} from '../content/stamp.js';
import type { Destination, LocalContent } from '../engine/destination.js';
import type { CrossTabError } from '../errors.js';
import type { PersistenceLogger } from '../logger.js';
import { createThrottle } from '../timing/throttle.js';
import { type ChannelFactory, type ClearScope, type CrossTab, openCrossTab } from './channel.js';
import { applyChanges, type ContentChanges, diffContent } from './delta.js';

export interface TabSyncOptions {
  channelName: string;
  storageKey: string;
  origin: string;
  createChannel: ChannelFactory;
  /** Bursts reach other tabs at most this often. */
  intervalMs: number;
  now: () => number;
  host: LocalContent;
  /** Whose content this tab holds: messages of another owner are dropped both ways. */
  owner: () => Owner | null;
  /**
   * Another tab cleared: this tab's copies are to be cleared too (`local`: sign-out, the
   * server copy stays; `everywhere`: the server copy is being deleted).
   */
  onClear: (from: string, scope: ClearScope) => void;
  logger: PersistenceLogger;
  onError: (error: CrossTabError) => void;
}

/** The other tabs as a destination: `hold` is content the peers hold (the next delta's base). */
export interface TabSync extends Destination {
  /** Announces this tab and asks peers for their state. */
  hello(): void;
  /** What the peers hold is unknown (every tab clears on its own): the next send is full. */
  forget(): void;
  postClear(scope: ClearScope): void;
  close(): void;
}

/** A tab asks one sender for a full state at most this often. */
const RESYNC_INTERVAL_MS = 250;
/** Contents remembered as possible bases of a peer's change (its own and received ones). */
const HISTORY_SIZE = 32;

export function createTabSync(options: TabSyncOptions): TabSync | null {
  const { host, logger } = options;
  // What the peers are believed to hold: the base of the next delta.
  let held: { refs: ContentRefs; stamp: ContentStamp } | null = null;
  // Whether another tab has been heard from. Until then no tab listens: one opened later
  // says `hello` and is answered with the whole state, so changes are not broadcast (a
  // burst in a lone tab would cost a structured clone, a message and a timer each 16 ms).
  let peerHeard = false;
  /** A change was not broadcast for want of a peer: it goes out when one is heard from. */
  let unsent = false;
  const resyncAskedAt = new Map<string, number>();
  let transport: CrossTab | null = null;
  // Contents by stamp, oldest first: the base a peer's change names is looked up here.
  const history = new Map<string, DashboardState>();
  const remember = (stamp: ContentStamp, state: DashboardState): void => {
    const key = stampKey(stamp);
    history.delete(key);
    history.set(key, state);
    if (history.size > HISTORY_SIZE) {
      const oldest = history.keys().next().value;
      if (oldest !== undefined) history.delete(oldest);
    }
  };

  const broadcast = (): void => {
    const { state, refs, stamp } = host.current();
    if (!transport || (held && sameContent(refs, held.refs))) return;
    const changes = held ? diffContent(held.refs, state) : null;
    if (held && changes) transport.postDelta(held.stamp, stamp, changes);
    else transport.postState(state, stamp.origin, held?.stamp);
    remember(stamp, state);
    held = { refs, stamp };
  };
  const throttle = createThrottle(broadcast, options.intervalMs, options.now);
  /** Schedules a broadcast when the content differs from what the peers hold. */
  const changed = (): void => {
    if (!peerHeard) {
      unsent = true;
      return;
    }
    const { refs } = host.current();
    if (!held || !sameContent(refs, held.refs)) throttle.schedule();
  };

  const accept = (state: DashboardState, stamp: ContentStamp): void => {
    const refs = host.adopt(state, stamp);
    held = { refs, stamp };
    logger.debug('tab.applied', { from: stamp.origin, timestamp: stamp.timestamp });
  };

  const isWanted = (incoming: ContentStamp, state: DashboardState | null): boolean =>
    isNewer(incoming, host.current().stamp) ||
    (host.isPristine() && state !== null && !isEmptyDashboard(state));

  /**
   * A peer's content, made on the content stamped `base` (null: unknown). When this tab
   * changed since that base and still knows it, both changes are merged; otherwise the
   * newer content wins.
   */
  const receive = (
    incoming: DashboardState,
    stamp: ContentStamp,
    base: ContentStamp | null,
  ): void => {
    const current = host.current();
    if (sameStamp(current.stamp, stamp)) return;
    remember(stamp, incoming);
    const baseState = base ? history.get(stampKey(base)) : undefined;
    if (
      base === null ||
      baseState === undefined ||
      sameStamp(current.stamp, base) ||
      host.isPristine()
    ) {
      if (isWanted(stamp, incoming)) accept(incoming, stamp);
      return;
    }
    const merged = mergeDashboardStates(baseState, current.state, incoming, {
      local: { origin: current.stamp.origin },
      remote: { origin: stamp.origin },
    });
    if (sameStateContent(merged, incoming)) {
      accept(incoming, stamp);
    } else if (!sameStateContent(merged, current.state)) {
      // This tab's own change, stamped newer than both sides it holds.
      const timestamp = timestampAfter(options.now(), current.stamp.timestamp, merged.timestamp);
      host.merged({ ...merged, timestamp });
      logger.debug('tab.merged', { from: stamp.origin, base: base.timestamp });
    }
    // Else this tab's content already holds both: the peer merges it when it arrives.
  };

  transport = openCrossTab({
    channelName: options.channelName,
    storageKey: options.storageKey,
    origin: options.origin,
    createChannel: options.createChannel,
    onError: options.onError,
    owner: options.owner,
    onOtherOwner: ({ type, origin, owner }) =>
      logger.warn('tab.other_owner_ignored', {
        type,
        from: origin,
        sender: describeOwner(owner),
        owner: describeOwner(options.owner()),
      }),
    onPeer() {
      if (peerHeard) return;
      peerHeard = true;
      // Changes made while alone go out now (the throttle runs after this message is
      // handled: content adopted from it is not sent back).
      if (unsent) changed();
    },
    handlers: {
      onState({ state: raw, author, base }, from) {
        const state = host.check(raw, 'another tab');
        if (!state) return;
        const stamp = {
          timestamp: state.timestamp,
          origin: typeof author === 'string' ? author : from,
        };
        receive(state, stamp, isStamp(base) ? base : null);
      },
      onDelta({ base, stamp, changes }, from) {
        if (!isStamp(base) || !isStamp(stamp) || typeof changes !== 'object' || changes === null) {
          host.check(null, 'another tab'); // reports the malformed message
          return;
        }
        const current = host.current();
        const known = history.get(stampKey(base));
        if (!sameStamp(current.stamp, base) && known !== undefined) {
          // This tab changed since the sender's base, which it still knows: merge.
          const state = host.check(
            applyChanges(known, changes as ContentChanges, stamp.timestamp),
            'another tab',
          );
          if (state) receive(state, stamp, base);
          return;
        }
        if (!sameStamp(current.stamp, base)) {
          // We hold other content than the sender's base: ask it for the whole state.
          const askedAt = resyncAskedAt.get(from) ?? -Infinity;
          if (options.now() - askedAt >= RESYNC_INTERVAL_MS && isNewer(stamp, current.stamp)) {
            resyncAskedAt.set(from, options.now());
            transport?.postHello(from);
          }
          return;
        }
        if (!isNewer(stamp, current.stamp)) return;
        const state = host.check(
          applyChanges(current.state, changes as ContentChanges, stamp.timestamp),
          'another tab',
        );
        if (state) {
          remember(stamp, state);
          accept(state, stamp);
        }
      },
      onHello(from, directed) {
        if (host.isPristine()) {
          // Nothing to offer, but the newcomer broadcasts only once it has heard from a
          // peer: ask it for its state (never in answer to a directed hello: no ping-pong).
          if (!directed) transport?.postHello(from);
          return;
        }
        const { state, refs, stamp } = host.current();
        transport?.postState(state, stamp.origin);
        remember(stamp, state);
        held = { refs, stamp };
      },
      onClear(from, scope) {
        throttle.cancel();
        held = null;
        history.clear();
        options.onClear(from, scope);
      },
    },
  });
  if (!transport) return null;

  return {
    hello: () => transport?.postHello(),
    notifyChange: changed,
    flush: () => {
      throttle.flush();
    },
    hold(refs, stamp) {
      held = { refs, stamp };
    },
    forget() {
      held = null;
    },
    postClear(scope) {
      throttle.cancel();
      held = null;
      history.clear();
      transport?.postClear(scope);
    },
    close() {
      throttle.cancel();
      transport?.close();
      transport = null;
    },
  };
}
