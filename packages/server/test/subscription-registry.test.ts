// Reference counting of channel subscriptions, including the races a busy server meets:
// listeners joining while the channel is still being subscribed, and failures.
import { describe, expect, it, vi } from 'vitest';
import { stateScope } from '../src/index.js';
import { silentLogger } from '../src/logger.js';
import { createChannelEvent } from '../src/store/channel-event.js';
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
const event = (revision: number) =>
  createChannelEvent('deleted', revision, `{"type":"deleted","revision":${revision}}`);

describe('SubscriptionRegistry', () => {
  it('opens a channel once for listeners that join while it is opening', async () => {
    const opening = deferred<number>();
    const hooks: ChannelHooks = {
      open: vi.fn(() => opening.promise),
      close: vi.fn(async () => {}),
    };
    const registry = new SubscriptionRegistry(hooks, silentLogger);
    const first = registry.add(scope, () => {});
    const second = registry.add(scope, () => {});
    opening.resolve(4);
    expect((await first).revision).toBe(4);
    expect((await second).revision).toBe(4);
    expect(hooks.open).toHaveBeenCalledOnce();
  });

  it('closes the channel when the last listener leaves, and reopens it for a newcomer', async () => {
    const hooks: ChannelHooks = { open: vi.fn(async () => 0), close: vi.fn(async () => {}) };
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
    const opening = deferred<number>();
    const registry = new SubscriptionRegistry(
      { open: () => opening.promise, close: async () => {} },
      silentLogger,
    );
    const received: number[] = [];
    const adding = registry.add(scope, (e) => received.push(e.revision));
    registry.deliver(scope.channel, event(6));
    opening.resolve(5);
    expect((await adding).revision).toBe(6);
    expect(registry.deliver(scope.channel, event(6))).toBe(false);
    expect(registry.deliver(scope.channel, event(7))).toBe(true);
    expect(received).toEqual([7]);
  });

  it('reconciles: pushes what moved, ignores what did not, resets after data loss', async () => {
    const registry = new SubscriptionRegistry(
      { open: async () => 3, close: async () => {} },
      silentLogger,
    );
    const received: number[] = [];
    await registry.add(scope, (e) => received.push(e.revision));
    expect(registry.reconcile(scope.channel, 3, event(3))).toBe('same');
    expect(registry.reconcile(scope.channel, 5, event(5))).toBe('pushed');
    expect(registry.reconcile(scope.channel, 1, null)).toBe('reset');
    expect(registry.revisionOf(scope.channel)).toBe(1);
    expect(registry.reconcile('unknown-channel', 9, event(9))).toBe('same');
    expect(received).toEqual([5]);
  });

  it('logs, and carries on, when unsubscribing from the store fails', async () => {
    const debug = vi.fn();
    const registry = new SubscriptionRegistry(
      {
        open: async () => 0,
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
