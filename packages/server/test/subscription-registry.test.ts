// Reference counting of channel subscriptions, including the races a busy server meets:
// listeners joining while the channel is still being subscribed, and failures.
import { describe, expect, it, vi } from 'vitest';
import {
  type ChannelEvent,
  createChannelEvent,
  stateMessageText,
} from '../src/channel/channel-event.js';
import { stateScope } from '../src/index.js';
import { silentLogger } from '../src/logger.js';
import type { ChannelHead } from '../src/store/state-store.js';
import { type ChannelHooks, SubscriptionRegistry } from '../src/store/subscription-registry.js';

function deferred<T>() {
  let resolve: (value: T) => void = () => {};
  let reject: (error: unknown) => void = () => {};
  const promise = new Promise<T>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { promise, resolve, reject };
}

const scope = stateScope('acme', 'registry-user');
const at = (revision: number, epoch = ''): ChannelHead => ({ revision, epoch });
const event = (revision: number) =>
  createChannelEvent('deleted', revision, `{"type":"deleted","revision":${revision}}`);
const stateEvent = (revision: number) =>
  createChannelEvent('state', revision, stateMessageText('{"version":1}', revision, 1, 'test'));

describe('SubscriptionRegistry', () => {
  it('opens a channel once for listeners that join while it is opening', async () => {
    const opening = deferred<ChannelHead>();
    const hooks: ChannelHooks = {
      open: vi.fn(() => opening.promise),
      close: vi.fn(async () => {}),
    };
    const registry = new SubscriptionRegistry(hooks, silentLogger);
    const first = registry.add(scope, () => {});
    const second = registry.add(scope, () => {});
    opening.resolve(at(4));
    expect((await first).revision).toBe(4);
    expect((await second).revision).toBe(4);
    expect(hooks.open).toHaveBeenCalledOnce();
  });

  it('closes the channel when the last listener leaves, and reopens it for a newcomer', async () => {
    const hooks: ChannelHooks = { open: vi.fn(async () => at(0)), close: vi.fn(async () => {}) };
    const registry = new SubscriptionRegistry(hooks, silentLogger);
    const a = await registry.add(scope, () => {});
    const b = await registry.add(scope, () => {});
    await a.unsubscribe();
    expect(hooks.close).not.toHaveBeenCalled();
    await b.unsubscribe();
    expect(hooks.close).toHaveBeenCalledOnce();
    expect(registry.size).toBe(0);
    await registry.add(scope, () => {});
    expect(hooks.open).toHaveBeenCalledTimes(2);
  });

  it('rejects every waiter when opening fails, and forgets the channel', async () => {
    const hooks: ChannelHooks = {
      open: vi.fn(async () => {
        throw new Error('redis down');
      }),
      close: vi.fn(async () => {}),
    };
    const registry = new SubscriptionRegistry(hooks, silentLogger);
    await expect(
      Promise.all([registry.add(scope, () => {}), registry.add(scope, () => {})]),
    ).rejects.toThrow('redis down');
    expect(registry.has(scope.channel)).toBe(false);
  });

  it('counts an event that arrives while opening into the starting revision', async () => {
    const opening = deferred<ChannelHead>();
    const registry = new SubscriptionRegistry(
      { open: () => opening.promise, close: async () => {} },
      silentLogger,
    );
    const received: number[] = [];
    const adding = registry.add(scope, (e) => received.push(e.revision));
    registry.deliver(scope.channel, event(6));
    opening.resolve(at(5));
    expect((await adding).revision).toBe(6);
    expect(registry.deliver(scope.channel, event(6))).toBe(false);
    expect(registry.deliver(scope.channel, event(7))).toBe(true);
    expect(received).toEqual([7]);
  });

  it('reconciles: pushes what moved, ignores what did not, resets after data loss', async () => {
    const registry = new SubscriptionRegistry(
      { open: async () => at(3, 'e1'), close: async () => {} },
      silentLogger,
    );
    const received: number[] = [];
    await registry.add(scope, (e) => received.push(e.revision));
    expect(registry.reconcile(scope.channel, at(3, 'e1'), event(3))).toBe('same');
    expect(registry.reconcile(scope.channel, at(5, 'e1'), event(5))).toBe('pushed');
    expect(registry.reconcile(scope.channel, at(1, 'e1'), null)).toBe('reset');
    expect(registry.revisionOf(scope.channel)).toBe(1);
    expect(registry.reconcile('unknown-channel', at(9, 'e1'), event(9))).toBe('same');
    expect(received).toEqual([5]);
  });

  it('resets listeners when the epoch changes, even to a higher revision, and adopts a first epoch', async () => {
    const registry = new SubscriptionRegistry(
      { open: async () => at(0), close: async () => {} },
      silentLogger,
    );
    const seen: string[] = [];
    const subscription = await registry.add(
      scope,
      (e) => seen.push(`event ${e.revision}`),
      (head) => seen.push(`reset ${head.epoch}.${head.revision}`),
    );
    expect(subscription.epoch).toBe('');
    // Nothing was stored: the first epoch is adopted, not a reset.
    expect(registry.reconcile(scope.channel, at(2, 'e1'), event(2))).toBe('pushed');
    expect(registry.reconcile(scope.channel, at(9, 'e2'), stateEvent(9))).toBe('reset');
    expect(registry.epochOf(scope.channel)).toBe('e2');
    expect(seen).toEqual(['event 2', 'reset e2.9', 'event 9']);
  });

  it('delivers the first save of a new epoch even at a lower revision (a counter reset), when the store says so', async () => {
    const registry = new SubscriptionRegistry(
      { open: async () => at(7, 'old'), close: async () => {} },
      silentLogger,
    );
    const seen: string[] = [];
    await registry.add(
      scope,
      (e) => seen.push(`event ${e.revision}`),
      (head) => seen.push(`reset ${head.epoch}.${head.revision}`),
    );
    expect(registry.deliver(scope.channel, stateEvent(1), 'new')).toBe(true);
    expect(registry.deliver(scope.channel, stateEvent(1), 'new')).toBe(false);
    expect(registry.deliver(scope.channel, stateEvent(2), 'new')).toBe(true);
    expect(seen).toEqual(['reset new.1', 'event 1', 'event 2']);
  });

  it('asks the store to check a channel when a message without its epoch is not newer', async () => {
    const check = vi.fn();
    const registry = new SubscriptionRegistry(
      { open: async () => at(3, 'e1'), close: async () => {}, check },
      silentLogger,
    );
    await registry.add(scope, () => {});
    expect(registry.deliver(scope.channel, stateEvent(1))).toBe(false);
    expect(check).toHaveBeenCalledWith(scope);
    expect(registry.deliver(scope.channel, stateEvent(4))).toBe(true);
    expect(check).toHaveBeenCalledOnce();
  });

  describe('a channel opened before its counter existed (epoch unknown)', () => {
    it('asks a Redis store to read the head after a change without its epoch until it knows it, and then never', async () => {
      const check = vi.fn();
      const readEpoch = vi.fn();
      const registry = new SubscriptionRegistry(
        { open: async () => at(0), close: async () => {}, check, readEpoch },
        silentLogger,
      );
      const seen: string[] = [];
      await registry.add(
        scope,
        (e) => seen.push(`event ${e.revision}`),
        (head) => seen.push(`reset ${head.epoch}.${head.revision}`),
        (head) => seen.push(`epoch ${head.epoch}.${head.revision}`),
      );
      expect(registry.deliver(scope.channel, stateEvent(1))).toBe(true);
      expect(registry.deliver(scope.channel, stateEvent(2))).toBe(true);
      expect(readEpoch).toHaveBeenCalledTimes(2);
      expect(readEpoch).toHaveBeenCalledWith(scope);
      // The read found the counter past the delivered revision (change 3 is on its way as
      // a message): only the epoch is taken, named with the revision delivered.
      registry.learnEpoch(scope.channel, at(3, 'e1'));
      expect(registry.epochOf(scope.channel)).toBe('e1');
      expect(registry.revisionOf(scope.channel)).toBe(2);
      // Known now: a second answer changes nothing, and newer changes ask for no read.
      registry.learnEpoch(scope.channel, at(3, 'e2'));
      expect(registry.deliver(scope.channel, stateEvent(3))).toBe(true);
      expect(registry.deliver(scope.channel, stateEvent(4))).toBe(true);
      expect(readEpoch).toHaveBeenCalledTimes(2);
      expect(check).not.toHaveBeenCalled();
      expect(seen).toEqual(['event 1', 'event 2', 'epoch e1.2', 'event 3', 'event 4']);
    });

    it('asks for a comparison, not the epoch, when the head read is below the delivered revision', async () => {
      const check = vi.fn();
      const registry = new SubscriptionRegistry(
        { open: async () => at(0), close: async () => {}, check, readEpoch: () => {} },
        silentLogger,
      );
      const told: string[] = [];
      await registry.add(
        scope,
        () => {},
        undefined,
        (head) => told.push(head.epoch),
      );
      registry.deliver(scope.channel, stateEvent(5));
      registry.learnEpoch(scope.channel, at(1, 'after-a-flush'));
      registry.learnEpoch(scope.channel, at(9, ''));
      registry.learnEpoch('unknown-channel', at(9, 'e1'));
      expect(check).toHaveBeenCalledExactlyOnceWith(scope);
      expect(registry.epochOf(scope.channel)).toBe('');
      expect(told).toEqual([]);
    });

    it('learns the epoch from a resync after an outage too, after its push', async () => {
      const registry = new SubscriptionRegistry(
        { open: async () => at(0), close: async () => {}, check: () => {} },
        silentLogger,
      );
      const seen: string[] = [];
      await registry.add(
        scope,
        (e) => seen.push(`event ${e.revision}`),
        undefined,
        (head) => seen.push(`epoch ${head.epoch}.${head.revision}`),
      );
      registry.deliver(scope.channel, stateEvent(1));
      expect(registry.reconcile(scope.channel, at(3, 'e1'), stateEvent(3))).toBe('pushed');
      // Learned once: a second re-read with the same epoch tells nobody.
      expect(registry.reconcile(scope.channel, at(3, 'e1'), null)).toBe('same');
      expect(seen).toEqual(['event 1', 'event 3', 'epoch e1.3']);
    });

    it('learns the epoch a memory change names, after delivering it, without a reset', async () => {
      const check = vi.fn();
      const registry = new SubscriptionRegistry(
        { open: async () => at(0), close: async () => {}, check },
        silentLogger,
      );
      const seen: string[] = [];
      const subscription = await registry.add(
        scope,
        (e) => seen.push(`event ${e.revision}`),
        (head) => seen.push(`reset ${head.epoch}.${head.revision}`),
        (head) => seen.push(`epoch ${head.epoch}.${head.revision}`),
      );
      expect(subscription.epoch).toBe('');
      expect(registry.deliver(scope.channel, stateEvent(1), 'm1')).toBe(true);
      expect(registry.deliver(scope.channel, stateEvent(2), 'm1')).toBe(true);
      expect(check).not.toHaveBeenCalled();
      expect(seen).toEqual(['event 1', 'epoch m1.1', 'event 2']);
      expect((await registry.add(scope, () => {})).epoch).toBe('m1');
    });

    it('keeps an epoch learned while opening when the open read saw none', async () => {
      const opening = deferred<ChannelHead>();
      const registry = new SubscriptionRegistry(
        { open: () => opening.promise, close: async () => {}, readEpoch: () => {} },
        silentLogger,
      );
      const adding = registry.add(scope, () => {});
      registry.deliver(scope.channel, stateEvent(1));
      registry.learnEpoch(scope.channel, at(1, 'e1'));
      opening.resolve(at(0));
      expect(await adding).toMatchObject({ revision: 1, epoch: 'e1' });
    });

    it('logs a listener told the epoch that throws, and tells the others', async () => {
      const registry = new SubscriptionRegistry(
        { open: async () => at(0), close: async () => {} },
        silentLogger,
      );
      const told: string[] = [];
      await registry.add(
        scope,
        () => {},
        undefined,
        () => {
          throw new Error('listener bug');
        },
      );
      await registry.add(
        scope,
        () => {},
        undefined,
        (head) => told.push(head.epoch),
      );
      registry.deliver(scope.channel, stateEvent(1), 'm1');
      expect(told).toEqual(['m1']);
    });
  });

  it('logs, and carries on, when unsubscribing from the store fails', async () => {
    const debug = vi.fn();
    const registry = new SubscriptionRegistry(
      {
        open: async () => at(0),
        close: async () => {
          throw new Error('connection gone');
        },
      },
      { ...silentLogger, debug },
    );
    const subscription = await registry.add(scope, () => {});
    await subscription.unsubscribe();
    expect(debug).toHaveBeenCalledOnce();
    expect(registry.scopes()).toEqual([]);
  });
});

describe('SubscriptionRegistry patch bases', () => {
  /**
   * A registry with one listener that records the base each event had when it ran and,
   * as a socket taking patches does, asks to keep each event (unless `keep` is false).
   */
  async function openRegistry(keep = true) {
    const registry = new SubscriptionRegistry(
      { open: async () => at(0), close: async () => {} },
      silentLogger,
    );
    const bases = new Map<ChannelEvent, ChannelEvent | undefined>();
    await registry.add(scope, (e) => {
      bases.set(e, e.base);
      e.keepAsBase = keep;
    });
    return { registry, bases };
  }

  it('links each state to the state delivered before it while listeners run', async () => {
    const { registry, bases } = await openRegistry();
    const [first, second, third] = [stateEvent(1), stateEvent(2), stateEvent(3)];
    for (const e of [first, second, third]) registry.deliver(scope.channel, e);
    expect([...bases.values()]).toEqual([undefined, first, second]);
  });

  it('cuts the link once listeners have run, so a channel keeps one event in memory', async () => {
    const { registry, bases } = await openRegistry();
    const [first, second] = [stateEvent(1), stateEvent(2)];
    registry.deliver(scope.channel, first);
    registry.deliver(scope.channel, second);
    expect(bases.get(second)).toBe(first);
    expect(second.base).toBeUndefined();
  });

  it('keeps no event for a channel whose listeners take full states', async () => {
    const { registry, bases } = await openRegistry(false);
    for (const e of [stateEvent(1), stateEvent(2)]) registry.deliver(scope.channel, e);
    expect([...bases.values()]).toEqual([undefined, undefined]);
  });

  it('gives no base to a deletion, nor to the state after one', async () => {
    const { registry, bases } = await openRegistry();
    const [saved, deleted, next] = [stateEvent(1), event(2), stateEvent(3)];
    for (const e of [saved, deleted, next]) registry.deliver(scope.channel, e);
    expect([...bases.values()]).toEqual([undefined, undefined, undefined]);
  });

  it('does not link an event it does not deliver (not newer than the last one)', async () => {
    const { registry, bases } = await openRegistry();
    const [first, again, next] = [stateEvent(1), stateEvent(1), stateEvent(2)];
    registry.deliver(scope.channel, first);
    expect(registry.deliver(scope.channel, again)).toBe(false);
    registry.deliver(scope.channel, next);
    expect([...bases.entries()]).toEqual([
      [first, undefined],
      [next, first],
    ]);
  });

  it('pushes a resync whole, and links the next change to it', async () => {
    const { registry, bases } = await openRegistry();
    registry.deliver(scope.channel, stateEvent(1));
    const pushed = stateEvent(4);
    expect(registry.reconcile(scope.channel, at(4, 'e1'), pushed)).toBe('pushed');
    expect(bases.get(pushed)).toBeUndefined();
    const next = stateEvent(5);
    registry.deliver(scope.channel, next);
    expect(bases.get(next)).toBe(pushed);
  });

  it('forgets the last state when a resync finds nothing to push', async () => {
    const { registry, bases } = await openRegistry();
    registry.deliver(scope.channel, stateEvent(1));
    registry.deliver(scope.channel, stateEvent(5));
    expect(registry.reconcile(scope.channel, at(2, 'e1'), null)).toBe('reset');
    const next = stateEvent(3);
    registry.deliver(scope.channel, next);
    expect(bases.get(next)).toBeUndefined();
  });
});
