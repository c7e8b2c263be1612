// Load process holding many WebSocket subscribers. Commands from the orchestrator:
// `connect` opens them, `begin`/`end` bracket a measurement window (messages received,
// their save→receive latency from the state timestamp the writer embeds, and staleness:
// how long each subscriber went without each save, see lib/staleness.ts), `close` drops them.
import { runJobChild } from '../lib/child-side.js';
import { LatencyRecorder } from '../lib/latency-recorder.js';
import { ArrivalLog } from '../lib/staleness.js';
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
  /**
   * Ends the window once no message arrived for `quietMs` (or after `maxWaitMs`), and
   * measures staleness against `acceptedAt`: the send times of the window's accepted
   * saves, by token (ascending).
   */
  | {
      command: 'end';
      quietMs: number;
      maxWaitMs: number;
      acceptedAt: Readonly<Record<string, readonly number[]>>;
    }
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
  /** Save→receive of each message received (info: skipped states are not in it). */
  latencyMs: Summary;
  /**
   * For every accepted save of the window and every subscriber of its user: ms from the
   * save's send time until the subscriber held that state or a newer one.
   */
  stalenessMs: Summary;
  /** (save, subscriber) pairs where the subscriber never came to hold the save (should be 0). */
  unreached: number;
  /** Subscribers whose socket closed during the window. */
  closed: number;
  /** CPU seconds this process used during the window (is the generator saturated?). */
  cpuSeconds: number;
  /** Per subscriber (in the order of the `connect` command): the newest state timestamp it received. */
  newestReceived: number[];
}

let connections: SubscriberConnection[] = [];
/** Token of each subscriber, in the order of the `connect` command. */
let tokens: string[] = [];
/** What each subscriber came to hold in the window, in the order of the `connect` command. */
let arrivals: ArrivalLog[] = [];
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
  arrivals[subscriber]?.record(sentAt, now);
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
  tokens = command.subscribers.map((spec) => spec.token);
  arrivals = command.subscribers.map(() => new ArrivalLog());
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

const staleness = new LatencyRecorder(4_000_000);

function measureStaleness(acceptedAt: Readonly<Record<string, readonly number[]>>): {
  stalenessMs: Summary;
  unreached: number;
} {
  staleness.reset();
  let unreached = 0;
  const sample = (ms: number): void => staleness.record(ms);
  arrivals.forEach((log, index) => {
    const saved = acceptedAt[tokens[index] ?? ''];
    if (saved !== undefined) unreached += log.staleness(saved, sample);
  });
  return { stalenessMs: staleness.summary(), unreached };
}

runJobChild<SubscribersCommand, ConnectResult | WindowResult | { closed: number }>(
  async (command, progress) => {
    switch (command.command) {
      case 'connect':
        return connectAll(command, progress);
      case 'begin':
        latency.reset();
        for (const log of arrivals) log.reset();
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
        const { stalenessMs, unreached } = measureStaleness(command.acceptedAt);
        return {
          messages,
          unreadable,
          activeMs: lastAt - beganAt,
          latencyMs: latency.summary(),
          stalenessMs,
          unreached,
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
