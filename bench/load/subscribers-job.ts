// Load process holding many WebSocket subscribers. Commands from the orchestrator:
// `connect` opens them, `begin`/`end` bracket a measurement window (messages received
// and save→receive latency from the state timestamp the writer embeds), `close` drops them.
import { runJobChild } from '../lib/child-side.js';
import { LatencyRecorder } from '../lib/latency-recorder.js';
import { preciseNow, readStateTimestamp } from '../lib/state-template.js';
import type { Summary } from '../lib/stats.js';
import {
  connectSubscriber,
  type SubscriberConnection,
  type SubscriberProtocol,
} from './subscriber-connection.js';

export interface SubscriberSpec {
  /** Index into `urls`: which server instance this subscriber connects to. */
  instance: number;
  token: string;
}

export type SubscribersCommand =
  | {
      command: 'connect';
      protocol: SubscriberProtocol;
      urls: string[];
      subscribers: SubscriberSpec[];
      /** Connections opened at once. */
      concurrency: number;
    }
  | { command: 'begin' }
  /** Ends the window once no message arrived for `quietMs` (or after `maxWaitMs`). */
  | { command: 'end'; quietMs: number; maxWaitMs: number }
  | { command: 'close' };

export interface ConnectResult {
  connected: number;
  durationMs: number;
}

export interface WindowResult {
  /** State messages received in the window. */
  messages: number;
  /** Messages whose send time could not be read (should be 0). */
  unreadable: number;
  /** ms from `begin` to the last message received. */
  activeMs: number;
  latencyMs: Summary;
  /** Subscribers whose socket closed during the window. */
  closed: number;
  /** CPU seconds this process used during the window (is the generator saturated?). */
  cpuSeconds: number;
  /** Per subscriber (in the order of the `connect` command): the newest state timestamp it received. */
  newestReceived: number[];
}

let connections: SubscriberConnection[] = [];
/** Newest state timestamp received, per subscriber index of the `connect` command. */
let newestReceived: number[] = [];
const latency = new LatencyRecorder(2_000_000);
let measuring = false;
let messages = 0;
let unreadable = 0;
let closed = 0;
let beganAt = 0;
let lastAt = 0;
let cpuAtBegin = process.cpuUsage();

function onMessage(data: Buffer, subscriber: number): void {
  if (!measuring) return;
  const now = preciseNow();
  const sentAt = readStateTimestamp(data);
  if (Number.isNaN(sentAt)) {
    unreadable++;
    return;
  }
  if (sentAt > (newestReceived[subscriber] ?? 0)) newestReceived[subscriber] = sentAt;
  messages++;
  lastAt = now;
  latency.record(now - sentAt);
}

async function connectAll(
  command: Extract<SubscribersCommand, { command: 'connect' }>,
  progress: (message: string) => void,
): Promise<ConnectResult> {
  const started = Date.now();
  newestReceived = new Array<number>(command.subscribers.length).fill(0);
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < command.subscribers.length) {
      const index = next++;
      const spec = command.subscribers[index];
      if (!spec) break;
      const url = command.urls[spec.instance];
      if (url === undefined) throw new RangeError(`no instance ${spec.instance}`);
      const connection = await connectSubscriber(command.protocol, url, spec.token, (data) =>
        onMessage(data, index),
      );
      connection.socket.on('close', () => {
        if (measuring) closed++;
      });
      connections.push(connection);
      if (connections.length % 1000 === 0) progress(`${connections.length} connected`);
    }
  };
  await Promise.all(Array.from({ length: command.concurrency }, worker));
  return { connected: connections.length, durationMs: Date.now() - started };
}

runJobChild<SubscribersCommand, ConnectResult | WindowResult | { closed: number }>(
  async (command, progress) => {
    switch (command.command) {
      case 'connect':
        return connectAll(command, progress);
      case 'begin':
        latency.reset();
        messages = 0;
        unreadable = 0;
        closed = 0;
        beganAt = preciseNow();
        lastAt = beganAt;
        cpuAtBegin = process.cpuUsage();
        measuring = true;
        return { connected: connections.length, durationMs: 0 };
      case 'end': {
        const deadline = Date.now() + command.maxWaitMs;
        while (Date.now() < deadline && preciseNow() - lastAt < command.quietMs) {
          await new Promise((resolve) => setTimeout(resolve, 50));
        }
        measuring = false;
        const cpu = process.cpuUsage(cpuAtBegin);
        return {
          messages,
          unreadable,
          activeMs: lastAt - beganAt,
          latencyMs: latency.summary(),
          closed,
          cpuSeconds: (cpu.user + cpu.system) / 1e6,
          newestReceived,
        };
      }
      case 'close': {
        const count = connections.length;
        for (const connection of connections) connection.close();
        connections = [];
        return { closed: count };
      }
    }
  },
);
