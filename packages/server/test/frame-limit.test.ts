// limitMessageSize on real ws sockets: a message over the cap closes the socket with 1009,
// also when it arrives compressed below the cap (checked after inflating), a lower limit
// the server already had is kept, and a socket without ws's internals reports false.
import { once } from 'node:events';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { WebSocket, WebSocketServer } from 'ws';
import { limitMessageSize } from '../src/socket/frame-limit.js';
import { waitFor } from './support/wait-for.js';

const servers: WebSocketServer[] = [];
afterEach(async () => {
  for (const server of servers.splice(0)) {
    for (const client of server.clients) client.terminate();
    await new Promise((resolve) => server.close(resolve));
  }
});

/** A server whose sockets get `limitMessageSize(cap)`, and a client connected to it. */
async function pair(cap: number, options: { maxPayload?: number; deflate?: boolean } = {}) {
  const server = new WebSocketServer({
    port: 0,
    host: '127.0.0.1',
    perMessageDeflate: options.deflate ?? false,
    ...(options.maxPayload === undefined ? {} : { maxPayload: options.maxPayload }),
  });
  servers.push(server);
  await once(server, 'listening');
  const received: string[] = [];
  const limited: boolean[] = [];
  const errors: string[] = [];
  server.on('connection', (socket) => {
    limited.push(limitMessageSize(socket, cap));
    socket.on('message', (data) => received.push(data.toString()));
    // ws reports the refused message here before closing with 1009.
    socket.on('error', (error: Error & { code?: string }) => errors.push(error.code ?? ''));
  });
  const { port } = server.address() as AddressInfo;
  const client = new WebSocket(`ws://127.0.0.1:${port}`, {
    perMessageDeflate: options.deflate ?? false,
  });
  let closed: number | undefined;
  client.on('close', (code) => {
    closed = code;
  });
  await once(client, 'open');
  await waitFor(() => limited.length === 1, { what: 'the server side of the socket' });
  return { client, received, limited, errors, closedCode: () => closed };
}

describe('limitMessageSize', () => {
  it('passes a message at the cap and closes with 1009 on a larger one', async () => {
    const { client, received, limited, errors, closedCode } = await pair(1000);
    expect(limited).toEqual([true]);
    client.send('a'.repeat(1000));
    await waitFor(() => received.length === 1, { what: 'the message at the cap' });
    client.send('b'.repeat(1001));
    expect(await waitFor(closedCode, { what: 'the close' })).toBe(1009);
    expect(received).toHaveLength(1);
    expect(errors).toEqual(['WS_ERR_UNSUPPORTED_MESSAGE_LENGTH']);
  });

  it('checks a compressed message after inflating it', async () => {
    const { client, received, closedCode } = await pair(1000, { deflate: true });
    // 10 000 equal bytes deflate to a few dozen: only the inflated size is over the cap.
    client.send('c'.repeat(10_000));
    expect(await waitFor(closedCode, { what: 'the close' })).toBe(1009);
    expect(received).toEqual([]);
  });

  it('keeps a lower limit the server already had', async () => {
    const { client, closedCode } = await pair(1000, { maxPayload: 500 });
    client.send('d'.repeat(700));
    expect(await waitFor(closedCode, { what: 'the close' })).toBe(1009);
  });

  it('reports false for a socket without ws internals, and leaves it alone', () => {
    const plain = { _receiver: { _maxPayload: 'none' }, _extensions: null };
    expect(limitMessageSize(plain as unknown as WebSocket, 10)).toBe(false);
    expect(plain._receiver._maxPayload).toBe('none');
  });

  it('lowers the receiver and the deflate limits of ws shapes, 0 (no limit) included', () => {
    // The shapes ws 8 keeps: Receiver#_maxPayload, PerMessageDeflate#_maxPayload.
    const unlimited = {
      _receiver: { _maxPayload: 0 },
      _extensions: { 'permessage-deflate': { _maxPayload: 100 } },
    };
    expect(limitMessageSize(unlimited as unknown as WebSocket, 10)).toBe(true);
    expect(unlimited._receiver._maxPayload).toBe(10);
    expect(unlimited._extensions['permessage-deflate']._maxPayload).toBe(10);

    const lower = {
      _receiver: { _maxPayload: 5 },
      _extensions: { 'permessage-deflate': { _maxPayload: 0 } },
    };
    expect(limitMessageSize(lower as unknown as WebSocket, 10)).toBe(true);
    expect(lower._receiver._maxPayload).toBe(5);
    expect(lower._extensions['permessage-deflate']._maxPayload).toBe(10);

    // No extensions negotiated, or no receiver (a closed socket): no throw.
    const plain = { _receiver: { _maxPayload: 100 } };
    expect(limitMessageSize(plain as unknown as WebSocket, 10)).toBe(true);
    expect(plain._receiver._maxPayload).toBe(10);
    expect(limitMessageSize({ _receiver: null } as unknown as WebSocket, 10)).toBe(false);
  });
});
