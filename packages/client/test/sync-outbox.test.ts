// The save queue without sockets: a fake connection records what would be sent, fake
// timers drive the throttle and the ack timeout.
import type { ClientMessage, DashboardState } from '@hyvve/schema';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { makeState } from '../../../test-support/fixtures.js';
import { type ContentRefs, refsOf, sameContent } from '../src/content/refs.js';
import type { PersistenceError } from '../src/errors.js';
import { createOutbox, type OutboxOptions } from '../src/server/outbox.js';

const silent = { debug() {}, info() {}, warn() {}, error() {} };

function setup(overrides: Partial<OutboxOptions> = {}) {
  let state: DashboardState = makeState({ activeProject: 'start' });
  let agreed: ContentRefs | null = refsOf(state);
  let ready = true;
  let seq = 0;
  const sent: Array<Extract<ClientMessage, { type: 'save' }> & { state: DashboardState }> = [];
  const timeouts: PersistenceError[] = [];
  const outbox = createOutbox({
    origin: 'me',
    connection: {
      isReady: () => ready,
      send(message) {
        if (message.type === 'save') sent.push(message as (typeof sent)[number]);
        return true;
      },
    },
    current: () => ({ state, refs: refsOf(state) }),
    isAgreed: (refs) => sameContent(refs, agreed),
    nextId: () => `me:${++seq}`,
    ackTimeoutMs: 10_000,
    throttleMs: 100,
    logger: silent,
    onTimeout: (error) => timeouts.push(error),
    ...overrides,
  });
  return {
    outbox,
    sent,
    timeouts,
    /** A local change, told to the outbox as the engine does. */
    change(activeProject: string) {
      state = { ...state, activeProject, widgets: { ...state.widgets } };
      outbox.schedule();
    },
    /** The server's answer to the save in flight: its content is now agreed. */
    ack() {
      const save = outbox.settle(sent.at(-1)?.id);
      if (save) agreed = save.refs;
    },
    setReady(value: boolean) {
      ready = value;
    },
  };
}

const microtasks = () => Promise.resolve();

describe('sync outbox', () => {
  beforeEach(() => {
    vi.useFakeTimers();
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  it('sends the first change of a burst at once, without waiting for the interval', async () => {
    const o = setup();
    o.change('first');
    await microtasks();
    expect(o.sent).toHaveLength(1);
    expect(o.sent[0]?.state).toMatchObject({ activeProject: 'first' });
  });

  it('sends a synchronous burst as one save of its last state', async () => {
    const o = setup();
    for (let i = 0; i < 50; i++) o.change(`p${i}`);
    await microtasks();
    expect(o.sent.map((s) => s.state)).toMatchObject([{ activeProject: 'p49' }]);
  });

  /** Changes every `spacingMs` for `durationMs`, each save answered at once; returns the saves. */
  async function burst(o: ReturnType<typeof setup>, spacingMs: number, durationMs: number) {
    const sentAt: number[] = [];
    let seen = 0;
    const note = () => {
      for (; seen < o.sent.length; seen++) sentAt.push(Date.now());
    };
    for (let t = 0; t < durationMs; t += spacingMs) {
      o.change(`p${t}`);
      await microtasks();
      note();
      o.ack();
      await vi.advanceTimersByTimeAsync(spacingMs);
      note();
    }
    await vi.advanceTimersByTimeAsync(1000);
    note();
    o.ack();
    return sentAt;
  }

  it('sends a dense burst as the old 100 ms / 1 s debounce did, plus the leading save, ending with its last state', async () => {
    const o = setup({ maxWaitMs: 1000 });
    // One change every 10 ms for 3 s.
    const sentAt = await burst(o, 10, 3000);
    // Leading save, one per second of the burst, the trailing one: the old debounce sent
    // one per second and the trailing one.
    expect(o.sent.length).toBeLessThanOrEqual(5);
    expect(o.sent.at(-1)?.state).toMatchObject({ activeProject: 'p2990' });
    for (let i = 1; i < sentAt.length; i++) {
      expect((sentAt[i] ?? 0) - (sentAt[i - 1] ?? 0)).toBeGreaterThanOrEqual(100);
    }
  });

  it('sends every change of a slow stream at once, never two within the interval', async () => {
    const o = setup();
    // One change every 150 ms: each one is after a quiet period, so each leaves at once.
    const sentAt = await burst(o, 150, 1500);
    expect(o.sent).toHaveLength(10);
    expect(o.sent.map((s) => s.state.activeProject)).toEqual(
      Array.from({ length: 10 }, (_, i) => `p${i * 150}`),
    );
    for (let i = 1; i < sentAt.length; i++) {
      expect((sentAt[i] ?? 0) - (sentAt[i - 1] ?? 0)).toBeGreaterThanOrEqual(100);
    }
  });

  it('holds a change that follows a save within the interval until the burst is quiet for one', async () => {
    const o = setup();
    o.change('first');
    await microtasks();
    o.ack();
    await vi.advanceTimersByTimeAsync(30);
    o.change('second');
    await vi.advanceTimersByTimeAsync(95);
    expect(o.sent).toHaveLength(1);
    await vi.advanceTimersByTimeAsync(10);
    expect(o.sent.map((s) => s.state.activeProject)).toEqual(['first', 'second']);
  });

  it('holds changes while a save is in flight and sends the latest after the answer', async () => {
    const o = setup();
    o.change('a');
    await microtasks();
    o.change('b');
    o.change('c');
    await vi.advanceTimersByTimeAsync(500);
    expect(o.sent).toHaveLength(1);
    o.ack();
    o.outbox.schedule();
    await vi.advanceTimersByTimeAsync(0);
    expect(o.sent.map((s) => s.state.activeProject)).toEqual(['a', 'c']);
  });

  it('sends nothing while the socket is not ready, and nothing the server already has', async () => {
    const o = setup();
    o.setReady(false);
    o.change('offline');
    await vi.advanceTimersByTimeAsync(500);
    expect(o.sent).toHaveLength(0);
    o.setReady(true);
    o.outbox.send();
    o.ack();
    o.outbox.send();
    expect(o.sent).toHaveLength(1);
  });

  it('does not send content the server refused again', async () => {
    const o = setup();
    o.change('too-big');
    await microtasks();
    const refused = o.outbox.settle(o.sent[0]?.id);
    if (refused) o.outbox.refuse(refused.refs);
    o.outbox.schedule();
    await vi.advanceTimersByTimeAsync(500);
    expect(o.sent).toHaveLength(1);
  });

  it('reports a save without an answer and forgets it', async () => {
    const o = setup();
    o.change('lost');
    await microtasks();
    await vi.advanceTimersByTimeAsync(10_000);
    expect(o.timeouts).toHaveLength(1);
    expect(o.outbox.inFlight()).toBeNull();
  });

  it('sends what is pending at once when the page closes, even with a save in flight', async () => {
    const o = setup();
    o.change('a');
    await microtasks();
    o.change('closing');
    o.outbox.sendPendingNow();
    expect(o.sent.map((s) => s.state.activeProject)).toEqual(['a', 'closing']);
    // Nothing new: nothing sent.
    o.outbox.sendPendingNow();
    expect(o.sent).toHaveLength(2);
  });
});
