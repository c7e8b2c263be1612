// One WebSocket per browser, server and owner (issue 23). The tab holding the Web Lock
// `name` leads: its connection gets the real socket. The other tabs' connections get a
// socket that goes through the leader over a BroadcastChannel of the same name; the sync
// layer above (server/sync.ts) is the same in every tab and cannot tell them apart.
// The protocol (docs/ARCHITECTURE.md, "Leader tab"):
// - a new leader takes the highest term it has seen + 1 and beats (`term`, `up`: its
//   socket is ready; `code` when it closed) on start, on every change and in answer to a
//   `ping`. A follower pings after QUIET_MS without hearing its leader and steals the lock
//   after STEAL_MS more: a frozen page keeps its lock, so the lock alone cannot tell.
// - a leader that loses the lock or hears a higher term demotes itself: closes its socket,
//   says `bye` and follows. Followers follow the highest term; their frames name the
//   leader (`to`), so an old leader running again forwards nothing of theirs.
// - server frames go to every follower, except acks and errors (with an `id`), which go
//   only to the tab whose origin the id starts with. A follower's `auth` is answered by
//   the leader with a `ready` of what it knows (revision, epoch, server time now).
// A change of leader closes a tab's socket with the `stalled` code, which its connection
// answers by reconnecting at once; what was unacknowledged is sent again (sync.ts).
import type { PersistenceLogger } from '../logger.js';
import { type SocketFactory, type SocketLike, STALLED_CLOSE_CODE } from '../server/socket.js';
import type { ChannelFactory, ChannelLike } from './channel.js';

/** The part of `navigator.locks` used here. */
export interface LockManagerLike {
  request(
    name: string,
    options: { steal?: boolean; signal?: AbortSignal },
    callback: () => unknown,
  ): Promise<unknown>;
}

export interface SharedConnection {
  /** A socket for this tab's connection: the real one when leading, else through the leader. */
  createSocket: SocketFactory;
  /** Ends leadership (the lock goes to the next tab) or following. */
  close(): void;
}

export interface LeaderOptions {
  /** Lock and channel name (server URL and owner), asked for on the first socket. */
  name: () => string;
  origin: string;
  locks: LockManagerLike;
  createChannel: ChannelFactory;
  /** The real socket. */
  createSocket: SocketFactory;
  /** The leader is up: a connection waiting out its backoff retries now. */
  wake: () => void;
  logger: PersistenceLogger;
}

interface Frame {
  t: 'beat' | 'ping' | 'bye' | 'msg' | 'join' | 'send';
  from: string;
  term: number;
  to?: string | undefined;
  up?: boolean;
  code?: number;
  reason?: string | undefined;
  data?: string;
}

/** A socket of this tab's connection: bound to the real one (leader) or to the channel. */
interface TabSocket extends SocketLike {
  real: SocketLike | null;
  /** 0 waiting for the leader, 1 open, 3 closed (when not bound). */
  state: number;
  /** Got its `ready`: relayed frames reach it (a real socket gets none before either). */
  joined: boolean;
  emit(type: string, event: unknown): void;
}

const TICK_MS = 200;
const QUIET_MS = 300;
const STEAL_MS = 800;
const isAuth = (data: string): boolean => data.startsWith('{"type":"auth"');

export function shareConnection(options: LeaderOptions): SharedConnection {
  const { origin, logger } = options;
  let name = '';
  const sockets = new Set<TabSocket>();
  let channel: ChannelLike | null = null;
  let url = '';
  let leader = false;
  let solo = false;
  let closed = false;
  let term = 0;
  /** The leader followed (this tab when leading) and whether its socket is ready. */
  let head: string | null = null;
  let up = false;
  let heardAt = 0;
  let pingedAt = 0;
  let tickAt = 0;
  let timer: ReturnType<typeof setInterval> | undefined;
  let lockGen = 0;
  let abort: AbortController | null = null;
  let release: (() => void) | null = null;
  /** The leader's renewal `auth` is out: the next `ready` (or 401) answers it. */
  let renewing = false;
  // What the leader tells a follower in its `ready`.
  let ready = { revision: 0, epoch: undefined as string | undefined, serverTime: 0, at: 0 };

  const post = (frame: Omit<Frame, 'from' | 'term'>): void => {
    if (solo) return;
    try {
      channel?.postMessage({ ...frame, from: origin, term });
    } catch (error) {
      logger.debug('leader.post_failed', { error: String(error) });
    }
  };
  const beat = (code?: number, reason?: string): void =>
    post(code === undefined ? { t: 'beat', up } : { t: 'beat', up, code, reason });

  const end = (s: TabSocket, code: number, reason: string): void => {
    if (!sockets.delete(s)) return;
    s.state = 3;
    if (s.real && s.real.readyState <= 1) s.real.close(1000, reason);
    s.emit('close', { code, reason });
  };
  const endAll = (code: number, reason: string, opened = false): void => {
    for (const s of sockets) if (!opened || s.real || s.state === 1) end(s, code, reason);
  };

  const fromServer = (s: TabSocket, data: unknown): void => {
    let m: Record<string, unknown> | null = null;
    try {
      m = typeof data === 'string' ? JSON.parse(data) : null;
    } catch {}
    // Not a frame the leader understands: its own connection reports it.
    if (!m || typeof m !== 'object' || typeof data !== 'string') {
      s.emit('message', { data });
      return;
    }
    const id = m.id;
    const to = typeof id === 'string' ? id.slice(0, id.lastIndexOf(':')) : undefined;
    if (typeof m.revision === 'number') ready.revision = m.revision;
    if (typeof m.epoch === 'string') ready.epoch = m.epoch;
    if (typeof m.serverTime === 'number')
      ready = { ...ready, serverTime: m.serverTime, at: Date.now() };
    const renewal =
      renewing && (m.type === 'ready' || (m.type === 'error' && !to && m.status === 401));
    if (renewal) renewing = false;
    if (!to || to === origin) s.emit('message', { data });
    if (m.type === 'ready' && !s.joined) {
      s.joined = up = true;
      beat();
    } else if (!renewal && to !== origin) post({ t: 'msg', to, data });
  };

  const bind = (s: TabSocket): void => {
    const ws = options.createSocket(url);
    s.real = ws;
    const live = (): boolean => sockets.has(s);
    ws.addEventListener('open', (e) => live() && s.emit('open', e));
    ws.addEventListener('error', (e) => live() && s.emit('error', e));
    ws.addEventListener('message', (e) => live() && fromServer(s, e.data));
    ws.addEventListener('close', (e) => {
      if (!live()) return;
      sockets.delete(s);
      // Followers show the same: offline, or an error for a refused token.
      up = false;
      beat(e.code, e.reason);
      s.emit('close', e);
    });
  };

  const lead = (): void => {
    leader = true;
    term += 1;
    head = origin;
    up = false;
    pingedAt = 0;
    logger.debug('leader.elected', { name, term });
    beat();
    for (const s of sockets) {
      if (s.state !== 0) end(s, STALLED_CLOSE_CODE, 'leader changed');
      else {
        try {
          bind(s);
        } catch (error) {
          logger.warn('leader.socket_failed', { error: String(error) });
          end(s, 1006, 'cannot open socket');
        }
      }
    }
    options.wake();
  };

  const demote = (why: string): void => {
    if (!leader || solo) return;
    logger.warn('leader.demoted', { name, term, why });
    post({ t: 'bye' });
    leader = up = false;
    head = null;
    release?.();
    release = null;
    endAll(STALLED_CLOSE_CODE, 'leader changed');
    request(false);
  };

  function request(steal: boolean): void {
    const gen = ++lockGen;
    abort?.abort();
    abort = steal ? null : new AbortController();
    options.locks
      .request(name, abort ? { signal: abort.signal } : { steal }, () => {
        if (closed || gen !== lockGen) return;
        lead();
        return new Promise<void>((resolve) => {
          release = resolve;
        });
      })
      .catch((error: unknown) => {
        if (closed || gen !== lockGen) return;
        if (leader) {
          demote('lock lost');
          return;
        }
        if ((error as { name?: string } | null)?.name === 'AbortError') return;
        // Locks refused (e.g. an opaque origin): this tab keeps its own socket.
        logger.warn('leader.locks_failed', { error: String(error) });
        solo = true;
        lead();
      });
  }

  const onFrame = ({ data }: { data: unknown }): void => {
    const f = data as Frame;
    if (solo || typeof f?.from !== 'string' || typeof f.term !== 'number') return;
    if (f.from === head) {
      heardAt = Date.now();
      pingedAt = 0;
    }
    switch (f.t) {
      case 'ping':
        if (leader) beat();
        return;
      case 'join':
      case 'send':
        if (!leader || !up || f.to !== origin) return;
        if (f.t === 'send') {
          for (const s of sockets) if (s.joined && s.real) s.real.send(String(f.data));
          return;
        }
        post({
          t: 'msg',
          to: f.from,
          data: JSON.stringify({
            type: 'ready',
            revision: ready.revision,
            epoch: ready.epoch,
            serverTime: ready.at ? ready.serverTime + Date.now() - ready.at : undefined,
          }),
        });
        return;
      case 'msg':
        if (leader || f.from !== head || (f.to && f.to !== origin)) return;
        for (const s of sockets) {
          // Frames addressed to this tab start with its `ready`; broadcasts wait for it.
          if (f.to === origin) s.joined = true;
          if (s.state === 1 && s.joined) s.emit('message', { data: f.data });
        }
        return;
      case 'bye':
        if (f.from !== head || leader) return;
        head = null;
        up = false;
        endAll(STALLED_CLOSE_CODE, 'leader left', true);
        return;
      case 'beat':
        if (f.term < term) {
          if (leader) beat(); // an old leader running again: this tells it
          return;
        }
        if (leader) {
          // Same term: two tabs stole at once; the lock settles it (the loser's request fails).
          if (f.term > term) demote('newer leader');
          return;
        }
        term = f.term;
        if (head !== f.from) {
          head = f.from;
          heardAt = Date.now();
          pingedAt = 0;
          up = false;
          endAll(STALLED_CLOSE_CODE, 'leader changed', true);
        }
        if (f.code !== undefined) {
          up = false;
          endAll(f.code, f.reason ?? 'leader offline');
        } else if (f.up && !up) {
          up = true;
          for (const s of sockets) if (s.state === 0) openSoon(s);
          options.wake();
        } else up = !!f.up;
    }
  };

  const openSoon = (s: TabSocket): void => {
    // After `createSocket` returned, when the connection listens.
    queueMicrotask(() => {
      if (!sockets.has(s) || s.real || s.state !== 0 || !up) return;
      s.state = 1;
      s.emit('open', {});
    });
  };

  const tick = (): void => {
    const now = Date.now();
    // Asleep (a throttled or frozen tab): hear the leader before judging it.
    if (now - tickAt > 4 * TICK_MS) {
      heardAt = now;
      pingedAt = 0;
    }
    tickAt = now;
    if (leader) return;
    if (pingedAt && now - pingedAt > STEAL_MS) {
      logger.warn('leader.silent', { name, leader: head, term });
      heardAt = now;
      pingedAt = 0;
      request(true);
    } else if (!pingedAt && now - heardAt > QUIET_MS) {
      pingedAt = now;
      post({ t: 'ping' });
    }
  };

  const start = (): void => {
    name = options.name();
    channel = options.createChannel(name);
    channel.addEventListener('message', onFrame);
    tickAt = heardAt = Date.now();
    timer = setInterval(tick, TICK_MS);
    request(false);
    post({ t: 'ping' });
  };

  return {
    createSocket(socketUrl) {
      if (closed) return options.createSocket(socketUrl);
      url = socketUrl;
      if (!channel) start();
      const listeners = new Map<string, Set<(event: never) => void>>();
      const s: TabSocket = {
        real: null,
        state: 0,
        joined: false,
        get readyState() {
          return s.real ? s.real.readyState : s.state;
        },
        send(data) {
          if (s.real) {
            if (s.joined && isAuth(data)) renewing = true;
            s.real.send(data);
          } else if (s.state === 1 && head) {
            post(isAuth(data) ? { t: 'join', to: head } : { t: 'send', to: head, data });
          }
        },
        close(code, reason) {
          if (!sockets.delete(s)) return;
          s.state = 3;
          s.real?.close(code, reason);
        },
        addEventListener(type, listener) {
          const set = listeners.get(type) ?? new Set();
          set.add(listener as (event: never) => void);
          listeners.set(type, set);
        },
        removeEventListener(type, listener) {
          listeners.get(type)?.delete(listener as (event: never) => void);
        },
        emit(type, event) {
          for (const listener of listeners.get(type) ?? [])
            (listener as (e: unknown) => void)(event);
        },
      };
      sockets.add(s);
      if (!leader) {
        if (up) openSoon(s);
        return s;
      }
      try {
        bind(s);
      } catch (error) {
        sockets.delete(s);
        throw error;
      }
      return s;
    },
    close() {
      if (closed) return;
      closed = true;
      clearInterval(timer);
      abort?.abort();
      if (leader) post({ t: 'bye' });
      release?.();
      endAll(1000, 'closing');
      channel?.removeEventListener('message', onFrame);
      channel?.close();
    },
  };
}
