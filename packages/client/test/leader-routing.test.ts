// The leader tab's routing (tabs/leader.ts), with a scripted server socket, Node's
// BroadcastChannel and the in-memory lock manager: a follower's `auth` is answered with
// the leader's `ready`; broadcasts reach every tab; an ack or error reaches only the tab
// whose id it carries; the answer to the leader's token renewal stays with the leader;
// a follower's frames reach the server through the leader's socket.
import { afterEach, describe, expect, it } from 'vitest';
import { type SharedConnection, type SocketLike, shareConnection } from './support/client.js';
import { uniqueNames, waitUntil } from './support/fakes.js';
import { FakeLocks } from './support/locks.js';

/** The server's end: what the tab sent, and `push` to send it a frame. */
class ScriptedSocket implements SocketLike {
  readyState = 0;
  readonly sent: string[] = [];
  private readonly listeners = new Map<string, (event: never) => void>();
  send(data: string): void {
    this.sent.push(data);
  }
  close(): void {
    this.readyState = 3;
  }
  addEventListener(type: string, listener: (event: never) => void): void {
    this.listeners.set(type, listener);
  }
  removeEventListener(): void {}
  open(): void {
    this.readyState = 1;
    this.listeners.get('open')?.({} as never);
  }
  push(frame: object): void {
    this.listeners.get('message')?.({ data: JSON.stringify(frame) } as never);
  }
}

/** A tab's connection end: the socket it got and the frames it received. */
interface Tab {
  origin: string;
  shared: SharedConnection;
  socket: SocketLike;
  received: Array<Record<string, unknown>>;
  opened: boolean;
}

const silent = { debug() {}, warn() {}, error() {} };
const open: SharedConnection[] = [];
afterEach(() => {
  for (const shared of open.splice(0)) shared.close();
});

function tabOf(origin: string, name: string, locks: FakeLocks, server: ScriptedSocket[]): Tab {
  const shared = shareConnection({
    name: () => name,
    origin,
    locks,
    createChannel: (channelName) => new BroadcastChannel(channelName),
    createSocket: () => {
      const socket = new ScriptedSocket();
      server.push(socket);
      return socket;
    },
    wake: () => {},
    logger: silent,
  });
  open.push(shared);
  const tab: Tab = {
    origin,
    shared,
    socket: shared.createSocket('ws://server/subscribe'),
    received: [],
    opened: false,
  };
  tab.socket.addEventListener('open', () => {
    tab.opened = true;
  });
  tab.socket.addEventListener('message', (event) => {
    tab.received.push(JSON.parse(String(event.data)) as Record<string, unknown>);
  });
  return tab;
}

const types = (tab: Tab): unknown[] => tab.received.map((m) => m.type);

describe('the leader tab routes the one socket’s frames', () => {
  it('demotes a leader that hears a higher term, and leads again above it when the lock is free', async () => {
    const { channelName: name } = uniqueNames('leader-term');
    const server: ScriptedSocket[] = [];
    const leader = tabOf('old-leader', name, new FakeLocks(), server);
    await waitUntil(() => server.length === 1, 2000, 'the real socket');
    (server[0] as ScriptedSocket).open();
    (server[0] as ScriptedSocket).push({ type: 'ready', revision: 1 });
    const closes: number[] = [];
    leader.socket.addEventListener('close', (event) => closes.push(event.code));
    const other = new BroadcastChannel(name);
    const frames: Array<{ t: string; from: string; term: number }> = [];
    other.addEventListener('message', (event) => frames.push(event.data));

    // Another tab leads with a higher term (it stole the lock while this one was frozen).
    other.postMessage({ t: 'beat', from: 'new-leader', term: 5, up: true });
    await waitUntil(() => closes.length === 1, 2000, 'the old leader’s socket closed');
    expect(closes).toEqual([4408]);
    expect((server[0] as ScriptedSocket).readyState).toBe(3);
    expect(frames.some((f) => f.t === 'bye' && f.from === 'old-leader')).toBe(true);
    // That leader is gone here (nothing holds the lock): this tab takes it, term 6.
    await waitUntil(
      () => frames.some((f) => f.t === 'beat' && f.from === 'old-leader' && f.term === 6),
      2000,
      'a beat of term 6',
    );
    other.close();
    leader.shared.createSocket('ws://server/subscribe');
    expect(server).toHaveLength(2);
  });

  it('answers a follower’s auth, and routes broadcasts, acks, errors and renewals', async () => {
    const { channelName: name } = uniqueNames('leader-routing');
    const locks = new FakeLocks();
    const server: ScriptedSocket[] = [];
    const leader = tabOf('leader-tab', name, locks, server);
    await waitUntil(() => server.length === 1, 2000, 'the leader opened the real socket');
    const real = server[0] as ScriptedSocket;
    real.open();
    expect(leader.opened).toBe(true);
    leader.socket.send(JSON.stringify({ type: 'auth', token: 't1' }));
    real.push({ type: 'ready', revision: 7, epoch: 'e1', serverTime: 1000 });
    expect(types(leader)).toEqual(['ready']);

    const follower = tabOf('follower-tab', name, locks, server);
    await waitUntil(() => follower.opened, 2000, 'the follower’s socket opened');
    follower.socket.send(JSON.stringify({ type: 'auth', token: 't2' }));
    await waitUntil(() => follower.received.length === 1, 2000, 'the follower’s ready');
    expect(follower.received[0]).toMatchObject({ type: 'ready', revision: 7, epoch: 'e1' });
    expect(server).toHaveLength(1); // no second socket, and its auth did not go out
    expect(real.sent).toEqual([JSON.stringify({ type: 'auth', token: 't1' })]);

    // A follower's save goes out on the leader's socket.
    const save = JSON.stringify({ type: 'save', id: 'follower-tab:1', state: {} });
    follower.socket.send(save);
    await waitUntil(() => real.sent.length === 2, 2000, 'the save forwarded');
    expect(real.sent[1]).toBe(save);

    real.push({ type: 'error', id: 'follower-tab:1', status: 400, error: 'x', message: 'no' });
    real.push({ type: 'saved', id: 'leader-tab:1', revision: 8, savedAt: 2000 });
    real.push({ type: 'state', state: {}, revision: 9, savedAt: 2100, origin: 'phone' });
    // The leader renews its token: the answer is the leader's alone.
    leader.socket.send(JSON.stringify({ type: 'auth', token: 't3' }));
    real.push({ type: 'ready', revision: 9 });
    real.push({ type: 'status', store: 'down' });
    await waitUntil(() => follower.received.length === 4, 2000, 'the follower’s frames');
    expect(types(leader)).toEqual(['ready', 'saved', 'state', 'ready', 'status']);
    expect(types(follower)).toEqual(['ready', 'error', 'state', 'status']);
    expect(follower.received[1]).toMatchObject({ id: 'follower-tab:1' });
  });
});
