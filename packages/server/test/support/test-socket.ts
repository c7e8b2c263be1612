// A real WebSocket client (the `ws` package) that records every message and its close,
// so tests can wait for the message they expect with a bounded timeout.
import { type ServerMessage, serverMessageSchema } from '@hyvve/schema';
import { WebSocket } from 'ws';
import { waitFor } from './wait-for.js';

export interface Closed {
  code: number;
  reason: string;
}

export class TestSocket {
  readonly messages: ServerMessage[] = [];
  /** Raw texts, in arrival order. */
  readonly texts: string[] = [];
  closed: Closed | undefined;
  /** Heartbeat pings received from the server. */
  pings = 0;
  readonly ws: WebSocket;
  private readonly opened: Promise<void>;

  constructor(url: string, options: { token?: string; autoPong?: boolean } = {}) {
    const headers = options.token ? { authorization: `Bearer ${options.token}` } : undefined;
    this.ws = new WebSocket(url, {
      ...(headers ? { headers } : {}),
      autoPong: options.autoPong ?? true,
    });
    this.ws.on('message', (data) => {
      const text = data.toString();
      this.texts.push(text);
      const parsed = serverMessageSchema.safeParse(JSON.parse(text));
      if (!parsed.success) throw new Error(`server sent an invalid message: ${text.slice(0, 200)}`);
      this.messages.push(JSON.parse(text));
    });
    this.ws.on('ping', () => {
      this.pings += 1;
    });
    this.ws.on('close', (code, reason) => {
      this.closed = { code, reason: reason.toString() };
    });
    this.ws.on('error', () => {});
    this.opened = new Promise((resolve, reject) => {
      this.ws.once('open', () => resolve());
      this.ws.once('error', reject);
    });
  }

  static async open(
    url: string,
    options: { token?: string; autoPong?: boolean } = {},
  ): Promise<TestSocket> {
    const socket = new TestSocket(url, options);
    await socket.opened;
    return socket;
  }

  /** Opens, authenticates (header by default, `auth` message with `via: 'message'`), waits for `ready`. */
  static async ready(
    url: string,
    token: string,
    via: 'header' | 'message' = 'header',
  ): Promise<{ socket: TestSocket; revision: number }> {
    const socket = await TestSocket.open(url, via === 'header' ? { token } : {});
    if (via === 'message') socket.send({ type: 'auth', token });
    const ready = await socket.next('ready');
    return { socket, revision: ready.revision };
  }

  send(message: unknown): void {
    this.ws.send(typeof message === 'string' ? message : JSON.stringify(message));
  }

  /** The first message of `type` (from index `from` on) that satisfies `match`. */
  async next<K extends ServerMessage['type']>(
    type: K,
    match: (message: Extract<ServerMessage, { type: K }>) => boolean = () => true,
    options: { timeoutMs?: number; from?: number } = {},
  ): Promise<Extract<ServerMessage, { type: K }>> {
    const isType = (message: ServerMessage): message is Extract<ServerMessage, { type: K }> =>
      message.type === type;
    try {
      return await waitFor(
        () =>
          this.messages
            .slice(options.from ?? 0)
            .filter(isType)
            .find(match),
        {
          timeoutMs: options.timeoutMs ?? 5000,
          what: `a "${type}" WebSocket message`,
        },
      );
    } catch (error) {
      const state = this.closed ? `closed with ${this.closed.code} ${this.closed.reason}` : 'open';
      const seen = this.texts.map((text) => text.slice(0, 80)).join(' | ');
      throw new Error(
        `${error instanceof Error ? error.message : String(error)}; socket ${state}; seen: ${seen}`,
      );
    }
  }

  /** Revision of the last `state` / `deleted` message seen (undefined if none). */
  lastChangeRevision(): number | undefined {
    for (let i = this.messages.length - 1; i >= 0; i--) {
      const message = this.messages[i];
      if (message?.type === 'state' || message?.type === 'deleted') return message.revision;
    }
    return undefined;
  }

  async waitClosed(timeoutMs = 5000): Promise<Closed> {
    return waitFor(() => this.closed, { timeoutMs, what: 'the socket to close' });
  }

  close(): void {
    if (this.ws.readyState === WebSocket.OPEN || this.ws.readyState === WebSocket.CONNECTING) {
      this.ws.terminate();
    }
  }
}
