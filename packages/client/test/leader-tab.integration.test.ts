// One connection per browser (issue 23) against the real server and Redis, in Node: the
// engines of one "browser" share a storage, a BroadcastChannel name and a lock manager
// (support/locks.ts). Checked here: one socket for all tabs, a follower's edit reaching
// another device and every tab, the leader's stop and a silent leader handing over to one
// other tab, the leader's outage shown in every tab, token renewal on the one socket,
// sign-out everywhere, and one socket per tab without locks or when turned off.
// Freezing and crashing a real page are tested in Chromium (e2e/leader-tab.test.ts).
import { signToken } from '@hyvve/server';
import { describe, expect, it } from 'vitest';
import type { ChannelLike, SocketLike } from './support/client.js';
import { SpyStorage, uniqueNames, waitUntil } from './support/fakes.js';
import { FakeLocks } from './support/locks.js';
import { type RealDevice, setUpRealServer } from './support/real-server.js';

const SECRET = 'client-leader-secret';
const WORKSPACE = 'ws-leader';
const real = setUpRealServer({
  secret: SECRET,
  workspaceId: WORKSPACE,
  userPrefix: 'leader',
});

/** A BroadcastChannel whose leader frames can be held back both ways, as in a frozen page. */
class PausableChannel implements ChannelLike {
  paused = false;
  private readonly channel: BroadcastChannel;
  constructor(name: string) {
    this.channel = new BroadcastChannel(name);
  }
  postMessage(message: unknown): void {
    if (!this.paused) this.channel.postMessage(message);
  }
  close(): void {
    this.channel.close();
  }
  addEventListener(type: 'message', listener: (event: { data: unknown }) => void): void {
    this.channel.addEventListener(type, (event) => {
      if (!this.paused) listener(event as MessageEvent);
    });
  }
  removeEventListener(): void {}
}

interface Tab extends RealDevice {
  leaderChannels: PausableChannel[];
}

/** A browser: tabs sharing storage, channel and locks; `sockets` are every real socket opened. */
function browser(
  user: string,
  options: {
    locks?: FakeLocks | null;
    share?: boolean;
    url?: string;
    getToken?: () => Promise<string>;
  } = {},
) {
  const storage = new SpyStorage();
  const names = uniqueNames('leader');
  const locks = options.locks === undefined ? new FakeLocks() : options.locks;
  const sockets: SocketLike[] = [];
  const tabs: Tab[] = [];
  const open = (): Tab => {
    const leaderChannels: PausableChannel[] = [];
    const device = real.device(user, {
      storage,
      ...(options.url ? { url: options.url } : {}),
      channelName: names.channelName,
      storageKey: names.storageKey,
      createChannel: (name) => {
        const channel = new PausableChannel(name);
        if (name.startsWith('hyvve-connection')) leaderChannels.push(channel);
        return channel;
      },
      wrapSocket: (socket) => {
        sockets.push(socket);
        return socket;
      },
      sync: {
        locks,
        ...(options.share === false ? { shareConnection: false } : {}),
        ...(options.getToken ? { getToken: options.getToken } : {}),
      },
    });
    const tab = { ...device, leaderChannels };
    tabs.push(tab);
    return tab;
  };
  const openSockets = (): number => sockets.filter((s) => s.readyState === 1).length;
  /** One socket open, and not `socket`: a new leader connected. */
  const replaced = (socket: SocketLike | undefined): boolean =>
    openSockets() === 1 && socket?.readyState !== 1;
  /**
   * `count` tabs, the first of them the leader: the lock goes to the tab whose connection
   * asks first, which for tabs opened together depends on timing, so the first is opened
   * and connected alone.
   */
  const openTabs = async (count: number): Promise<Tab[]> => {
    const first = open();
    await waitUntil(() => status(first) === 'synced' && openSockets() === 1, 10_000, 'a leader');
    return [first, ...Array.from({ length: count - 1 }, open)];
  };
  return { open, openTabs, tabs, openSockets, sockets, replaced };
}

const status = (tab: RealDevice): string => tab.engine.getSnapshot().syncStatus;
const allSynced = (tabs: RealDevice[]): boolean => tabs.every((t) => status(t) === 'synced');
const project = (tab: RealDevice): string | null => tab.store.getState().activeProject;

describe('one connection per browser', () => {
  it('opens one socket for three tabs, and a follower’s edit reaches another device and every tab', async () => {
    const user = real.newUser();
    const laptop = browser(user);
    const tabs = await laptop.openTabs(3);
    const phone = real.device(user);
    await waitUntil(() => allSynced([...tabs, phone]), 10_000, 'every tab synced');
    expect(laptop.openSockets()).toBe(1);

    // The last tab opened follows (the first holds the lock).
    const follower = tabs[2] as Tab;
    follower.store.getState().setActiveProject('from-a-follower');
    await waitUntil(() => project(phone) === 'from-a-follower', 10_000, 'the phone got it');
    await waitUntil(() => tabs.every((t) => project(t) === 'from-a-follower'), 5000);
    // And the other way: the phone's edit reaches every tab through the one socket.
    phone.store.getState().setActiveProject('from-the-phone');
    await waitUntil(() => tabs.every((t) => project(t) === 'from-the-phone'), 10_000);
    expect(laptop.openSockets()).toBe(1);
    const errors = tabs.flatMap((t) => t.errors);
    expect(errors).toEqual([]);
  });

  it('hands over to one other tab when the leader stops, and edits still flow', async () => {
    const user = real.newUser();
    const laptop = browser(user);
    const [first, second, third] = (await laptop.openTabs(3)) as [Tab, Tab, Tab];
    const phone = real.device(user);
    await waitUntil(() => allSynced([first, second, third, phone]), 10_000);

    const old = laptop.sockets.find((socket) => socket.readyState === 1);
    first.engine.stop(); // the leader: its tab closes
    await waitUntil(() => allSynced([second, third]) && laptop.replaced(old), 10_000);
    third.store.getState().setActiveProject('after-the-handover');
    await waitUntil(() => project(phone) === 'after-the-handover', 10_000);
    await waitUntil(() => project(second) === 'after-the-handover', 5000);
    phone.store.getState().setActiveProject('to-the-new-leader');
    await waitUntil(() => [second, third].every((t) => project(t) === 'to-the-new-leader'));
    expect(laptop.openSockets()).toBe(1);
  });

  it('replaces a leader that stops answering, which then follows', async () => {
    const user = real.newUser();
    const laptop = browser(user);
    const [first, second] = (await laptop.openTabs(2)) as [Tab, Tab];
    const phone = real.device(user);
    await waitUntil(() => allSynced([first, second, phone]), 10_000);
    expect(laptop.openSockets()).toBe(1);
    const old = laptop.sockets.find((socket) => socket.readyState === 1);
    for (const channel of first.leaderChannels) channel.paused = true;

    // The follower steals the lock; the old leader loses it and closes its socket.
    await waitUntil(() => laptop.replaced(old) && allSynced([second]), 10_000, 'a new socket');
    second.store.getState().setActiveProject('while-the-leader-was-silent');
    await waitUntil(() => project(phone) === 'while-the-leader-was-silent', 10_000);
    for (const channel of first.leaderChannels) channel.paused = false;
    await waitUntil(() => allSynced([first, second]), 5000, 'the old leader follows');
    first.store.getState().setActiveProject('from-the-old-leader');
    await waitUntil(() => project(phone) === 'from-the-old-leader', 10_000);
    expect(laptop.openSockets()).toBe(1);
  });

  it('shows the leader’s outage in every tab, and every tab back when it reconnects', async () => {
    const user = real.newUser();
    const instance = await real.startInstance();
    const laptop = browser(user, { url: instance.url });
    const tabs = await laptop.openTabs(3);
    const phone = real.device(user);
    await waitUntil(() => allSynced([...tabs, phone]), 10_000);

    await instance.close();
    await waitUntil(() => tabs.every((t) => status(t) === 'offline'), 10_000, 'all offline');
    (tabs[2] as Tab).store.getState().setActiveProject('made-offline-in-a-follower');
    await real.startInstance(instance.port);
    await waitUntil(() => allSynced(tabs) && laptop.openSockets() === 1, 10_000, 'all back');
    await waitUntil(() => project(phone) === 'made-offline-in-a-follower', 10_000);
  });

  it('renews the token of the one socket, and every tab stays synced past its expiry', async () => {
    const user = real.newUser();
    let tokens = 0;
    const getToken = (): Promise<string> => {
      tokens += 1;
      return signToken({
        userId: user,
        workspaceId: WORKSPACE,
        secret: SECRET,
        expiresInSeconds: 3,
      });
    };
    const laptop = browser(user, { getToken });
    const tabs = await laptop.openTabs(3);
    const phone = real.device(user);
    await waitUntil(() => allSynced([...tabs, phone]), 10_000);
    const socket = laptop.sockets.find((s) => s.readyState === 1);
    const firstExpiry = Date.now() + 3_000;
    // Each tab asked for a token to connect and for one more to renew.
    await waitUntil(() => Date.now() > firstExpiry + 1_500 && tokens >= 6, 15_000, 'renewed');
    expect(socket?.readyState).toBe(1);
    expect(laptop.sockets).toHaveLength(1);
    expect(allSynced(tabs)).toBe(true);
    (tabs[1] as Tab).store.getState().setActiveProject('after-the-renewal');
    await waitUntil(() => project(phone) === 'after-the-renewal', 10_000);
    expect(tabs.flatMap((t) => t.errors)).toEqual([]);
  });

  it('signs out in every tab from a follower: no socket stays open', async () => {
    const user = real.newUser();
    const laptop = browser(user);
    const tabs = await laptop.openTabs(3);
    await waitUntil(() => allSynced(tabs), 10_000);
    await tabs[2]?.engine.clear();
    await waitUntil(() => tabs.every((t) => status(t) === 'local-only'), 5000);
    await waitUntil(() => laptop.openSockets() === 0, 5000, 'every socket closed');
  });

  it('keeps one socket per tab without Web Locks, and when turned off', async () => {
    const user = real.newUser();
    const withoutLocks = browser(user, { locks: null });
    const off = browser(user, { share: false });
    const tabs = [withoutLocks.open(), withoutLocks.open(), off.open(), off.open()];
    await waitUntil(() => allSynced(tabs), 10_000);
    expect(withoutLocks.openSockets()).toBe(2);
    expect(off.openSockets()).toBe(2);
  });
});
