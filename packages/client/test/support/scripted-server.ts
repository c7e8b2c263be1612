// A real WebSocket + HTTP server on 127.0.0.1:0 whose answers each test scripts, to
// drive the client through protocol paths the real server produces only under rare
// timing (conflicts, timeouts, malformed messages).
import { once } from 'node:events';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { type WebSocket, WebSocketServer } from 'ws';

export interface ScriptedSocket {
  readonly socket: WebSocket;
  /** Path and query of the upgrade request. */
  readonly requestUrl: string;
  /** Parsed client messages, in arrival order. */
  readonly received: Array<Record<string, unknown>>;
  send(message: unknown): void;
  sendRaw(text: string): void;
  close(code?: number, reason?: string): void;
  /** Resolves with the first received message (past or future) matching `type` after `skip` earlier ones. */
  next(type: string, skip?: number, timeoutMs?: number): Promise<Record<string, unknown>>;
  count(type: string): number;
}

export interface HttpAnswer {
  status: number;
  body?: unknown;
}

export class ScriptedServer {
  readonly connections: ScriptedSocket[] = [];
  /** Answer to GET /api/dashboard/state. */
  getAnswer: HttpAnswer = { status: 404, body: { error: 'not_found', message: 'nothing stored' } };
  getRequests = 0;
  lastAuthorization: string | undefined;
  /** Path and query of the last HTTP request. */
  lastRequestUrl: string | undefined;
  private waiters: Array<(socket: ScriptedSocket) => void> = [];

  private constructor(
    private readonly http: Server,
    private readonly wss: WebSocketServer,
    readonly url: string,
  ) {}

  static async start(): Promise<ScriptedServer> {
    const wss = new WebSocketServer({ noServer: true });
    let self: ScriptedServer | undefined;
    const http = createServer((req: IncomingMessage, res: ServerResponse) => {
      if (!self) return;
      self.getRequests += 1;
      self.lastAuthorization = req.headers.authorization;
      self.lastRequestUrl = req.url;
      res.writeHead(self.getAnswer.status, { 'content-type': 'application/json' });
      res.end(self.getAnswer.body === undefined ? '' : JSON.stringify(self.getAnswer.body));
    });
    http.on('upgrade', (req, socket, head) => {
      wss.handleUpgrade(req, socket, head, (ws) => self?.accept(ws, req.url ?? ''));
    });
    http.listen(0, '127.0.0.1');
    await once(http, 'listening');
    const { port } = http.address() as AddressInfo;
    self = new ScriptedServer(http, wss, `http://127.0.0.1:${port}`);
    return self;
  }

  /** The next connection (or an existing one not yet taken by index). */
  async connection(index: number, timeoutMs = 5000): Promise<ScriptedSocket> {
    const deadline = Date.now() + timeoutMs;
    while (!this.connections[index]) {
      if (Date.now() > deadline) throw new Error(`no connection #${index} within ${timeoutMs} ms`);
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, 20);
        this.waiters.push(() => {
          clearTimeout(timer);
          resolve();
        });
      });
    }
    return this.connections[index] as ScriptedSocket;
  }

  /** Accepts auth and says ready with `revision`: the usual start of a test. */
  async ready(index: number, revision = 0): Promise<ScriptedSocket> {
    const conn = await this.connection(index);
    await conn.next('auth');
    conn.send({ type: 'ready', revision });
    return conn;
  }

  async close(): Promise<void> {
    for (const conn of this.connections) conn.socket.terminate();
    this.wss.close();
    this.http.closeAllConnections();
    await new Promise<void>((resolve) => this.http.close(() => resolve()));
  }

  private accept(ws: WebSocket, requestUrl: string): void {
    const received: Array<Record<string, unknown>> = [];
    const conn: ScriptedSocket = {
      socket: ws,
      requestUrl,
      received,
      send: (message) => ws.send(JSON.stringify(message)),
      sendRaw: (text) => ws.send(text),
      close: (code, reason) => ws.close(code, reason),
      count: (type) => received.filter((m) => m.type === type).length,
      async next(type, skip = 0, timeoutMs = 5000) {
        const deadline = Date.now() + timeoutMs;
        for (;;) {
          const match = received.filter((m) => m.type === type)[skip];
          if (match) return match;
          if (Date.now() > deadline)
            throw new Error(`no "${type}" #${skip} within ${timeoutMs} ms`);
          await new Promise((resolve) => setTimeout(resolve, 5));
        }
      },
    };
    ws.on('message', (data) => received.push(JSON.parse(data.toString())));
    this.connections.push(conn);
    for (const wake of this.waiters.splice(0)) wake(conn);
  }
}
