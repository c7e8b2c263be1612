// Minimal WebSocket subscribers for both servers under test, on the same `ws` client,
// so the subscriber side costs the same for each and the servers are what differ.
// Messages are handed over as raw Buffers: nothing is parsed per message.
import WebSocket from 'ws';

/** `hyvve-patches` asks our server for patches (`?patches=1`), as our browser client does. */
export type SubscriberProtocol = 'hyvve' | 'hyvve-patches' | 'socketio';

export interface SubscriberConnection {
  close(): void;
  readonly socket: WebSocket;
}

export class SubscriberConnectError extends Error {
  constructor(
    readonly url: string,
    reason: string,
  ) {
    super(`subscriber to ${url} failed: ${reason}`);
    this.name = 'SubscriberConnectError';
  }
}

const CONNECT_TIMEOUT_MS = 15_000;
/**
 * The subscriber side must cost as little as possible: it shares a CPU with the writer
 * and Redis. No compression, and no UTF-8 check of 10 KB frames (nothing is decoded).
 */
const CLIENT_OPTIONS = { perMessageDeflate: false, skipUTF8Validation: true } as const;

const CONTROL_PREFIXES = ['{"type":"ready"', '{"type":"status"'].map((text) => Buffer.from(text));

function isControlMessage(data: Buffer): boolean {
  return CONTROL_PREFIXES.some((prefix) => data.subarray(0, prefix.length).equals(prefix));
}

/** Our API: the upgrade carries the token; the server says `ready` once subscribed. */
function connectHyvve(
  baseUrl: string,
  token: string,
  onMessage: (data: Buffer) => void,
  patches: boolean,
): Promise<SubscriberConnection> {
  const query = patches ? '?patches=1' : '';
  const url = `${baseUrl.replace(/^http/, 'ws')}/api/dashboard/state/subscribe${query}`;
  const socket = new WebSocket(url, {
    headers: { authorization: `Bearer ${token}` },
    ...CLIENT_OPTIONS,
  });
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      socket.terminate();
      reject(new SubscriberConnectError(url, 'no ready message in time'));
    }, CONNECT_TIMEOUT_MS);
    let ready = false;
    socket.on('message', (data: Buffer) => {
      if (ready) {
        // Only changes are measured: a later `ready` (the epoch learned, a renewal) and
        // store `status` messages carry no state. Their type leads the message.
        if (isControlMessage(data)) return;
        onMessage(data);
        return;
      }
      if (data.includes('"type":"ready"')) {
        ready = true;
        clearTimeout(timer);
        resolve({ socket, close: () => socket.terminate() });
      }
    });
    socket.once('error', (error) => {
      clearTimeout(timer);
      reject(new SubscriberConnectError(url, error.message));
    });
    socket.once('close', (code) => {
      clearTimeout(timer);
      if (!ready) reject(new SubscriberConnectError(url, `closed with ${code} before ready`));
    });
  });
}

/**
 * Socket.IO v5 protocol over engine.io v4, websocket transport only: `0{open}`, then
 * `40{auth}` → `40{sid}`; `2` pings answered with `3`; events arrive as `42[...]`.
 */
function connectSocketIo(
  baseUrl: string,
  token: string,
  onMessage: (data: Buffer) => void,
): Promise<SubscriberConnection> {
  const url = `${baseUrl.replace(/^http/, 'ws')}/socket.io/?EIO=4&transport=websocket`;
  const socket = new WebSocket(url, CLIENT_OPTIONS);
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      socket.terminate();
      reject(new SubscriberConnectError(url, 'no socket.io connect in time'));
    }, CONNECT_TIMEOUT_MS);
    let connected = false;
    socket.on('message', (data: Buffer) => {
      const kind = data[0];
      if (kind === 0x32 /* '2' ping */ && data.length === 1) {
        socket.send('3');
        return;
      }
      if (connected) {
        onMessage(data);
        return;
      }
      if (kind === 0x30 /* '0' open */) {
        socket.send(`40${JSON.stringify({ token })}`);
      } else if (data.toString('latin1', 0, 3) === '40{') {
        connected = true;
        clearTimeout(timer);
        resolve({ socket, close: () => socket.terminate() });
      } else if (data.toString('latin1', 0, 2) === '44') {
        clearTimeout(timer);
        socket.terminate();
        reject(new SubscriberConnectError(url, `connect refused: ${data.toString()}`));
      }
    });
    socket.once('error', (error) => {
      clearTimeout(timer);
      reject(new SubscriberConnectError(url, error.message));
    });
  });
}

export function connectSubscriber(
  protocol: SubscriberProtocol,
  baseUrl: string,
  token: string,
  onMessage: (data: Buffer) => void,
): Promise<SubscriberConnection> {
  return protocol === 'socketio'
    ? connectSocketIo(baseUrl, token, onMessage)
    : connectHyvve(baseUrl, token, onMessage, protocol === 'hyvve-patches');
}
