// A counter reset that lands while a socket is still joining (between attaching to the
// channel and its `ready`): the socket's `ready` names the new head, and the state of
// that head follows it, as it does for a socket that had already joined. The race needs
// a store held mid-subscribe, so the service here is a stand-in; the socket is real code.
// Likewise the channel learning its epoch (its counter created after it was opened) while
// a socket joins, or after: one `ready` names it, and no change is skipped.
import { EventEmitter } from 'node:events';
import { pino } from 'pino';
import { describe, expect, it } from 'vitest';
import type { WebSocket } from 'ws';
import type { TokenVerifier } from '../src/auth/token-verifier.js';
import { createChannelEvent, stateMessageText } from '../src/channel/channel-event.js';
import { ServerMetrics, stateScope } from '../src/index.js';
import type { StatePersistenceService } from '../src/service/state-persistence-service.js';
import { WriteCoalescer } from '../src/socket/fan-out/write-coalescer.js';
import { StateSocket } from '../src/socket/state-socket.js';
import type {
  ChannelHead,
  ChannelListener,
  EpochListener,
  ResetListener,
} from '../src/store/state-store.js';
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

type Listeners = [ChannelListener, ResetListener | undefined, EpochListener | undefined];

/** A real StateSocket on a fake socket, joining through a service held mid-subscribe. */
function joiningSocket(subscription: { revision: number; epoch: string }) {
  const scope = stateScope('acme', 'joining');
  let attach: ((listeners: Listeners) => void) | undefined;
  const attached = new Promise<Listeners>((resolve) => {
    attach = resolve;
  });
  let subscribed: (() => void) | undefined;
  const service = {
    currentTime: () => 1_700_000_000_000,
    subscribeChannel(
      _owner: unknown,
      listener: ChannelListener,
      onReset?: ResetListener,
      onEpoch?: EpochListener,
    ) {
      attach?.([listener, onReset, onEpoch]);
      return new Promise((resolve) => {
        subscribed = () => resolve({ ...subscription, unsubscribe: async () => {} });
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
    parseJson: JSON.parse,
    patches: false,
    coalescer: new WriteCoalescer({ windowMs: 0 }),
    storeStatus: () => 'up',
    metrics: new ServerMetrics({ enabled: false }),
    track: () => {},
    onClosed: () => {},
  });
  socket.start('Bearer anything');
  return { ws, attached, subscribed: () => subscribed?.() };
}

const stateAt = (revision: number) =>
  createChannelEvent(
    'state',
    revision,
    stateMessageText('{"version":1}', revision, 10, 'other-instance'),
  );

describe('StateSocket joining while the counter is reset', () => {
  it('says ready with the new head and forwards its state', async () => {
    const { ws, attached, subscribed } = joiningSocket({ revision: 5, epoch: 'old' });
    const [listener, onReset] = await attached;
    const head: ChannelHead = { revision: 1, epoch: 'new' };
    onReset?.(head);
    listener(stateAt(1));
    subscribed();
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

describe('StateSocket joining while the channel learns its epoch', () => {
  it('names the learned epoch in its one ready (the subscription still said none)', async () => {
    const { ws, attached, subscribed } = joiningSocket({ revision: 0, epoch: '' });
    const [listener, , onEpoch] = await attached;
    // The user's first save, and the channel's re-read that found its counter's epoch.
    listener(stateAt(1));
    onEpoch?.({ revision: 1, epoch: 'e1' });
    subscribed();
    await waitFor(() => ws.sent.length === 2, { what: 'ready and the state' });
    expect(JSON.parse(ws.sent[0] ?? '')).toMatchObject({ type: 'ready', revision: 0, epoch: 'e1' });
    expect(JSON.parse(ws.sent[1] ?? '')).toMatchObject({ type: 'state', revision: 1 });
    // Told already: learning it again (another re-read) sends nothing more.
    onEpoch?.({ revision: 1, epoch: 'e1' });
    listener(stateAt(2));
    await waitFor(() => ws.sent.length === 3, { what: 'the next state' });
    expect(JSON.parse(ws.sent[2] ?? '')).toMatchObject({ type: 'state', revision: 2 });
  });

  it('says ready again with the epoch and the revision it was sent when it joined before', async () => {
    const { ws, attached, subscribed } = joiningSocket({ revision: 0, epoch: '' });
    const [listener, , onEpoch] = await attached;
    subscribed();
    await waitFor(() => ws.sent.length === 1, { what: 'ready' });
    listener(stateAt(1));
    await waitFor(() => ws.sent.length === 2, { what: 'the state' });
    // A change still waiting in the outbox reaches the reader after the ready: not counted.
    listener(stateAt(2));
    onEpoch?.({ revision: 2, epoch: 'e1' });
    await waitFor(() => ws.sent.length === 4, { what: 'ready and the next state' });
    expect(ws.sent.map((text) => JSON.parse(text))).toMatchObject([
      { type: 'ready', revision: 0, epoch: '' },
      { type: 'state', revision: 1 },
      { type: 'ready', revision: 1, epoch: 'e1' },
      { type: 'state', revision: 2 },
    ]);
  });
});
