// One WebSocket per browser, server and owner (issue 23). The tab holding the Web Lock
// `name` leads: its connection gets the real socket. The other tabs' connections get a
// socket that goes through the leader over a BroadcastChannel of the same name; the sync
// layer above (server/sync.ts) is the same in every tab and cannot tell them apart.
// The protocol (docs/ARCHITECTURE.md, "Leader tab"):
// - a new leader takes the highest term it has seen + 1 and beats (`term`, `up`: its
//   socket is ready; `code` when it closed) every TICK_MS from a timer and on every change.
//   A follower that hears no beat for STEAL_MS steals the lock: a frozen page keeps its
//   lock, but its timers stop (liveness is never judged by answers to messages).
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
  t: 'beat' | 'bye' | 'msg' | 'join' | 'send';
  from: string;
  term: number;
  to?: string | undefined;
  up?: boolean;
  code?: number | undefined;
  reason?: string | undefined;
  data?: string;
}

/**
 * The socket of this tab's connection (one at a time: it closes one before opening the
 * next, and listens once per event type): bound to the real one, or to the channel.
 */
interface TabSocket extends SocketLike {
  real?: SocketLike;
  /** 0 waiting for the leader, 1 open, 3 closed (when not bound). */
  state: number;
  /** Got its `ready`: relayed frames reach it (a real socket gets none before either). */
  joined?: boolean;
  on: Record<string, (event: unknown) => void>;
}

const TICK_MS = 250;
/** More than a hidden leader's timers wait (1 s, when Chrome throttles them). */
const STEAL_MS = 1500;
const STALLED = STALLED_CLOSE_CODE;
const CHANGED = 'leader changed';
const isAuth = (data: string): boolean => data.startsWith('{"type":"auth"');

export function shareConnection(options: LeaderOptions): SharedConnection {
  const { origin, logger } = options;
  let name = '';
  let sock: TabSocket | null = null;
  let channel: ChannelLike | null = null;
  let url = '';
  let leader = false;
  /** Locks refused (e.g. an opaque origin): this tab keeps its own socket, as without them. */
  let solo = false;
  let closed = false;
  let term = 0;
  /** The leader followed (this tab when leading) and whether its socket is ready. */
  let head: string | null = null;
  let up = false;
  let heardAt = 0;
  let tickAt = 0;
  let timer: ReturnType<typeof setInterval> | undefined;
  let lockGen = 0;
  let abort: AbortController | null = null;
  let release: (() => void) | undefined;
  /** The leader's renewal `auth` is out: the next `ready` (or 401) answers it. */
  let renewing = false;
  // What the leader tells a follower in its `ready`: revision, epoch, server time and when.
  let revision = 0;
  let epoch: unknown;
  let serverTime = 0;
  let serverTimeAt = 0;

  // Frames are plain objects of strings and numbers, posted only while the channel is open.
  const post = (frame: Omit<Frame, 'from' | 'term'>): void => {
    if (!solo) channel?.postMessage({ ...frame, from: origin, term });
  };
  // `code` undefined (not closed) reaches followers as undefined: only a number closes.
  const beat = (code?: number, reason?: string): void => post({ t: 'beat', up, code, reason });
  const emit = (s: TabSocket, type: string, event: unknown): void => s.on[type]?.(event);

  /** Closes this tab's socket for its connection; `opened`: only one that got further than waiting. */
  const end = (code: number, reason: string, opened?: boolean): void => {
    const s = sock;
    if (!s || (opened && !s.real && s.state !== 1)) return;
    sock = null;
    s.state = 3;
    if (s.real && s.real.readyState <= 1) s.real.close(1000, reason);
    emit(s, 'close', { code, reason });
  };

  const fromServer = (s: TabSocket, data: unknown): void => {
    let m: Record<string, unknown> | undefined;
    try {
      m = JSON.parse(data as string);
    } catch {
      // Not a frame the leader understands: its own connection reports it.
    }
    if (typeof m !== 'object' || !m) {
      emit(s, 'message', { data });
      return;
    }
    const id = m.id;
    const to = typeof id === 'string' ? id.slice(0, id.lastIndexOf(':')) : undefined;
    if (typeof m.revision === 'number') revision = m.revision;
    if (m.epoch !== undefined) epoch = m.epoch;
    if (typeof m.serverTime === 'number') {
      serverTime = m.serverTime;
      serverTimeAt = Date.now();
    }
    const renewal =
      renewing && (m.type === 'ready' || (m.type === 'error' && !to && m.status === 401));
    if (renewal) renewing = false;
    if (!to || to === origin) emit(s, 'message', { data });
    if (m.type === 'ready' && !s.joined) {
      s.joined = up = true;
      beat();
    } else if (!renewal && to !== origin) post({ t: 'msg', to, data: data as string });
  };

  const bind = (s: TabSocket): void => {
    const ws = options.createSocket(url);
    s.real = ws;
    const live = (): boolean => sock === s;
    ws.addEventListener('open', (e) => live() && emit(s, 'open', e));
    ws.addEventListener('error', (e) => live() && emit(s, 'error', e));
    ws.addEventListener('message', (e) => live() && fromServer(s, e.data));
    ws.addEventListener('close', (e) => {
      if (!live()) return;
      sock = null;
      // Followers show the same: offline, or an error for a refused token.
      up = false;
      beat(e.code, e.reason);
      emit(s, 'close', e);
    });
  };

  const openSoon = (): void => {
    // After `createSocket` returned, when the connection listens.
    queueMicrotask(() => {
      if (sock && !sock.real && sock.state === 0 && up) {
        sock.state = 1;
        emit(sock, 'open', {});
      }
    });
  };

  const lead = (): void => {
    leader = true;
    term += 1;
    head = origin;
    up = false;
    logger.debug('leader.elected', { name, term });
    beat();
    if (sock?.state === 0 && !sock.real) {
      try {
        bind(sock);
      } catch {
        end(1006, CHANGED); // the connection reports it, as any socket that could not open
      }
    } else end(STALLED, CHANGED);
    options.wake();
  };

  const demote = (): void => {
    if (!leader || solo) return;
    logger.warn('leader.demoted', { name, term });
    post({ t: 'bye' });
    leader = up = false;
    head = null;
    release?.();
    end(STALLED, CHANGED);
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
      .catch((error: { name?: string } | null) => {
        if (closed || gen !== lockGen) return;
        if (leader) return demote();
        if (error?.name === 'AbortError') return;
        logger.warn('leader.locks_failed', { error: String(error) });
        solo = true;
        lead();
      });
  }

  const onFrame = ({ data }: { data: unknown }): void => {
    const f = data as Frame;
    if (solo || typeof f?.from !== 'string' || typeof f.term !== 'number') return;
    // Only beats (sent from a timer) say the leader runs: timers stop in a frozen page.
    if (f.from === head && f.t === 'beat') heardAt = Date.now();
    const mine = f.to === origin;
    if (f.t === 'send') {
      if (leader && up && mine) sock?.real?.send(f.data as string);
    } else if (f.t === 'join') {
      if (!leader || !up || !mine) return;
      const time = serverTimeAt ? serverTime + Date.now() - serverTimeAt : undefined;
      const ready = JSON.stringify({ type: 'ready', revision, epoch, serverTime: time });
      post({ t: 'msg', to: f.from, data: ready });
    } else if (f.t === 'msg') {
      if (leader || f.from !== head || (f.to && !mine) || !sock || sock.state !== 1) return;
      // What is addressed to this tab starts with its `ready`; broadcasts wait for it.
      if (mine) sock.joined = true;
      if (sock.joined) emit(sock, 'message', { data: f.data });
    } else if (f.t === 'bye') {
      if (f.from !== head || leader) return;
      head = null;
      up = false;
      end(STALLED, CHANGED, true);
    } else if (f.term < term) {
      if (leader) beat(); // an old leader running again: this tells it
    } else if (leader) {
      // Same term: two tabs stole at once; the lock settles it (the loser's request fails).
      if (f.term > term) {
        term = f.term;
        demote();
      }
    } else {
      term = f.term;
      if (head !== f.from) {
        head = f.from;
        heardAt = Date.now();
        up = false;
        end(STALLED, CHANGED, true);
      }
      if (f.code !== undefined) {
        up = false;
        end(f.code, f.reason ?? CHANGED);
      } else if (f.up && !up) {
        up = true;
        openSoon();
        options.wake();
      } else up = !!f.up;
    }
  };

  const tick = (): void => {
    const now = Date.now();
    // This tab's own timer ran late (hidden and throttled, or frozen): hear before judging.
    if (now - tickAt > 3 * TICK_MS) heardAt = now;
    tickAt = now;
    if (leader) beat();
    else if (now - heardAt > STEAL_MS) {
      logger.warn('leader.silent', { name, leader: head, term });
      heardAt = now;
      request(true);
    }
  };

  return {
    createSocket(socketUrl) {
      if (closed) return options.createSocket(socketUrl);
      url = socketUrl;
      if (!channel) {
        name = options.name();
        channel = options.createChannel(name);
        channel.addEventListener('message', onFrame);
        tickAt = heardAt = Date.now();
        timer = setInterval(tick, TICK_MS);
        request(false);
      }
      const s: TabSocket = {
        state: 0,
        on: {},
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
          if (sock !== s) return;
          sock = null;
          s.state = 3;
          s.real?.close(code, reason);
        },
        addEventListener(type, listener) {
          s.on[type] = listener as (event: unknown) => void;
        },
        removeEventListener(type) {
          delete s.on[type];
        },
      };
      sock = s;
      if (leader) {
        try {
          bind(s);
        } catch (error) {
          sock = null;
          throw error;
        }
      } else if (up) openSoon();
      return s;
    },
    close() {
      if (closed) return;
      closed = true;
      clearInterval(timer);
      abort?.abort();
      if (leader) post({ t: 'bye' });
      release?.();
      end(1000, CHANGED);
      channel?.removeEventListener('message', onFrame);
      channel?.close();
    },
  };
}
