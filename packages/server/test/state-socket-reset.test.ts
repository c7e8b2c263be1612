// A counter reset that lands while a socket is still joining (between attaching to the
// channel and its `ready`): the socket's `ready` names the new head, and the state of
// that head follows it, as it does for a socket that had already joined. The race needs
// a store held mid-subscribe, so the service here is a stand-in; the socket is real code.
import { EventEmitter } from 'node:events';
import { pino } from 'pino';
import { describe, expect, it } from 'vitest';
import type { WebSocket } from 'ws';
import type { TokenVerifier } from '../src/auth/token-verifier.js';
import { StateSocket } from '../src/http/state-socket.js';
import { WriteCoalescer } from '../src/http/write-coalescer.js';
import { ServerMetrics, stateScope } from '../src/index.js';
import type { StatePersistenceService } from '../src/service/state-persistence-service.js';
import { createChannelEvent, stateMessageText } from '../src/store/channel-event.js';
import type { ChannelHead, ChannelListener, ResetListener } from '../src/store/state-store.js';
import { waitFor } from './support/wait-for.js';

class FakeWebSocket extends EventEmitter {
  readonly readyState = 1;
  readonly extensions = '';
  readonly bufferedAmount = 0;
  readonly sent: string[] = [];
  close(): void {
    throw new Error('the socket was closed');
  }
  send(data: string | Buffer, _options: unknown, done?: () => void): void {
    this.sent.push(data.toString());
    if (done) setImmediate(done);
  }
}

describe('StateSocket joining while the counter is reset', () => {
  it('says ready with the new head and forwards its state', async () => {
    const scope = stateScope('acme', 'joining');
    let attach: ((listeners: [ChannelListener, ResetListener | undefined]) => void) | undefined;
    const attached = new Promise<[ChannelListener, ResetListener | undefined]>((resolve) => {
      attach = resolve;
    });
    let subscribed: (() => void) | undefined;
    const service = {
      currentTime: () => 1_700_000_000_000,
      subscribeChannel(_owner: unknown, listener: ChannelListener, onReset?: ResetListener) {
        attach?.([listener, onReset]);
        return new Promise((resolve) => {
          subscribed = () => resolve({ revision: 5, epoch: 'old', unsubscribe: async () => {} });
        });
      },
    } as unknown as StatePersistenceService;
    const verifier = {
      verifyHeader: async () => ({
        workspaceId: 'acme',
        userId: 'joining',
        scope,
        expiresAt: Date.now() + 60_000,
      }),
    } as unknown as TokenVerifier;
    const ws = new FakeWebSocket();
    const socket = new StateSocket(ws as unknown as WebSocket, {
      service,
      verifier,
      limiter: undefined,
      ip: '127.0.0.1',
      logger: pino({ level: 'silent' }),
      authTimeoutMs: 1000,
      patches: false,
      coalescer: new WriteCoalescer({ windowMs: 0 }),
      storeStatus: () => 'up',
      metrics: new ServerMetrics({ enabled: false }),
      track: () => {},
      onClosed: () => {},
    });
    socket.start('Bearer anything');
    const [listener, onReset] = await attached;
    const head: ChannelHead = { revision: 1, epoch: 'new' };
    onReset?.(head);
    listener(
      createChannelEvent('state', 1, stateMessageText('{"version":1}', 1, 10, 'other-instance')),
    );
    subscribed?.();
    await waitFor(() => ws.sent.length === 2, { what: 'ready and the state' });
    expect(JSON.parse(ws.sent[0] ?? '')).toEqual({
      type: 'ready',
      revision: 1,
      epoch: 'new',
      serverTime: 1_700_000_000_000,
    });
    expect(JSON.parse(ws.sent[1] ?? '')).toMatchObject({ type: 'state', revision: 1 });
  });
});
