// Test doubles that behave like the real thing, including the ways it fails.
import type {
  FetchLike,
  Lifecycle,
  SocketLike,
  StateStorage,
  VisibilitySource,
  WindowEvents,
} from './client.js';

/** In-memory Web Storage that records every call. */
export class SpyStorage implements StateStorage {
  readonly data = new Map<string, string>();
  readonly writes: Array<{ key: string; value: string }> = [];
  readonly removes: string[] = [];

  getItem(key: string): string | null {
    return this.data.get(key) ?? null;
  }
  setItem(key: string, value: string): void {
    this.writes.push({ key, value });
    this.data.set(key, value);
  }
  removeItem(key: string): void {
    this.removes.push(key);
    this.data.delete(key);
  }
  /** The parsed envelope under `key`, or null. */
  envelope(key: string): {
    state: { timestamp: number } & Record<string, unknown>;
    savedAt: number;
    revision?: number;
  } | null {
    const raw = this.data.get(key);
    return raw === undefined ? null : JSON.parse(raw);
  }
}

/**
 * A SpyStorage already holding an envelope of `state` under `key`, with `revision` when
 * given: what a browser profile has stored from an earlier session.
 */
export function storageHolding(
  key: string,
  state: unknown,
  revision?: number,
  owner?: { workspaceId: string; userId: string },
): SpyStorage {
  const storage = new SpyStorage();
  storage.setItem(key, JSON.stringify({ format: 1, state, savedAt: Date.now(), revision, owner }));
  return storage;
}

/**
 * Storage with a byte quota, throwing the DOMException browsers throw when it is full
 * (name QuotaExceededError, legacy code 22).
 */
export class QuotaStorage extends SpyStorage {
  constructor(public quotaChars: number) {
    super();
  }
  override setItem(key: string, value: string): void {
    let used = 0;
    for (const [k, v] of this.data) if (k !== key) used += k.length + v.length;
    if (used + key.length + value.length > this.quotaChars) {
      throw new DOMException(
        `Setting the value of '${key}' exceeded the quota.`,
        'QuotaExceededError',
      );
    }
    super.setItem(key, value);
  }
}

/** Storage whose every call throws, as in Safari private mode with storage blocked. */
export class BrokenStorage implements StateStorage {
  getItem(): string | null {
    throw new DOMException('The operation is insecure.', 'SecurityError');
  }
  setItem(): void {
    throw new DOMException('The operation is insecure.', 'SecurityError');
  }
  removeItem(): void {
    throw new DOMException('The operation is insecure.', 'SecurityError');
  }
}

export class FakeDocument extends EventTarget implements VisibilitySource {
  visibilityState: 'visible' | 'hidden' = 'visible';
  hide(): void {
    this.visibilityState = 'hidden';
    this.dispatchEvent(new Event('visibilitychange'));
  }
  show(): void {
    this.visibilityState = 'visible';
    this.dispatchEvent(new Event('visibilitychange'));
  }
}

export class FakeWindow extends EventTarget implements WindowEvents {
  pagehide(): void {
    this.dispatchEvent(new Event('pagehide'));
  }
  online(): void {
    this.dispatchEvent(new Event('online'));
  }
}

export function fakeLifecycle(): Lifecycle & { window: FakeWindow; document: FakeDocument } {
  return { window: new FakeWindow(), document: new FakeDocument() };
}

let counter = 0;
/** A storage key and channel name no other test uses, so parallel files never cross. */
export function uniqueNames(label: string): { storageKey: string; channelName: string } {
  counter += 1;
  const id = `${label}-${process.pid}-${counter}-${Math.random().toString(36).slice(2, 8)}`;
  return { storageKey: `test-key-${id}`, channelName: `test-channel-${id}` };
}

/** Polls until `check` returns true, at most `timeoutMs` (real timers). */
export async function waitUntil(
  check: () => boolean,
  timeoutMs = 5000,
  what = 'condition',
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline)
      throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

/** The real fetch, counting the requests made through it. */
export function countingFetch(): { fetch: FetchLike; readonly calls: number } {
  const counter = {
    calls: 0,
    fetch: ((url, init) => {
      counter.calls += 1;
      return fetch(url, init);
    }) as FetchLike,
  };
  return counter;
}

/** A promise the test resolves when it chooses: holds back a request or an answer. */
export function latch(): { opened: Promise<void>; open(): void } {
  let open: () => void = () => {};
  const opened = new Promise<void>((resolve) => {
    open = resolve;
  });
  return { opened, open };
}

type SocketListener = (event: never) => void;

/**
 * Holds back incoming socket messages of chosen types until `release()`, as a slow
 * pub/sub path does with a broadcast while a direct answer overtakes it. Wraps a real
 * socket; everything else passes through.
 */
export class MessageGate {
  private readonly holding = new Set<string>();
  private readonly held: Array<() => void> = [];

  hold(type: string): void {
    this.holding.add(type);
  }

  get heldCount(): number {
    return this.held.length;
  }

  /** Delivers what was held, in arrival order, and holds nothing more. */
  release(): void {
    this.holding.clear();
    for (const deliver of this.held.splice(0)) deliver();
  }

  wrap(socket: SocketLike): SocketLike {
    return interceptMessages(socket, (event, deliver) => {
      const type = (JSON.parse(String(event.data)) as { type?: unknown }).type;
      if (typeof type === 'string' && this.holding.has(type)) {
        this.held.push(() => deliver(event));
      } else {
        deliver(event);
      }
    });
  }
}

/**
 * Wraps a real socket so that each incoming message goes through `intercept`, which hands
 * it on (now, later, rewritten or not) with `deliver`; everything else passes through.
 */
export function interceptMessages(
  socket: SocketLike,
  intercept: (event: { data: unknown }, deliver: (event: { data: unknown }) => void) => void,
): SocketLike {
  const wrapped = new Map<SocketListener, SocketListener>();
  return {
    get readyState() {
      return socket.readyState;
    },
    send: (data) => socket.send(data),
    close: (code, reason) => socket.close(code, reason),
    addEventListener(type, listener) {
      if (type !== 'message') {
        socket.addEventListener(type, listener);
        return;
      }
      const deliver = listener as (event: { data: unknown }) => void;
      const filtered = (event: { data: unknown }): void => intercept(event, deliver);
      wrapped.set(listener as SocketListener, filtered as SocketListener);
      socket.addEventListener('message', filtered);
    },
    removeEventListener(type, listener) {
      const filtered = wrapped.get(listener as SocketListener);
      socket.removeEventListener(type, (filtered ?? listener) as typeof listener);
      wrapped.delete(listener as SocketListener);
    },
  };
}
