// The per-socket message gate: messages keep their order behind an asynchronous check,
// a refused one is answered, a socket refused again and again is a flood, and an error
// in a handler run after an asynchronous check is reported, not lost.
import { describe, expect, it } from 'vitest';
import { RateLimitedError } from '../src/errors.js';
import { SocketMessageGate, type SpendMessage } from '../src/socket/socket-message-gate.js';

/** A spend answering asynchronously, refusing the keys in `refuse` (the IP before auth, else the user id). */
function asyncLimiter(refuse: Set<string>): SpendMessage {
  const answer = (key: string) =>
    new Promise<void>((resolve, reject) =>
      setTimeout(() => (refuse.has(key) ? reject(new RateLimitedError(250)) : resolve()), 5),
    );
  return (owner) => answer(owner === undefined ? '10.0.0.1' : owner.userId);
}

function gate(spend: SpendMessage | undefined, floodLimit = 20) {
  const events: string[] = [];
  const errors: unknown[] = [];
  const instance = new SocketMessageGate({
    spend,
    floodLimit,
    onLimited: (error, message) => events.push(`429:${String(message)}:${error.retryAfterMs}`),
    onFlood: () => events.push('flood'),
    onError: (error) => errors.push(error),
  });
  return { instance, events, errors };
}

const alice = { workspaceId: 'acme', userId: 'alice' };

describe('SocketMessageGate', () => {
  it('runs every message at once without a limiter', () => {
    const { instance, events } = gate(undefined);
    instance.admit(undefined, 'a', () => events.push('a'));
    expect(events).toEqual(['a']);
  });

  it('keeps messages in order behind asynchronous checks', async () => {
    const { instance, events } = gate(asyncLimiter(new Set()));
    for (const name of ['save', 'delete', 'save-2']) {
      instance.admit(alice, name, () => events.push(name));
    }
    await expect.poll(() => events.length).toBe(3);
    expect(events).toEqual(['save', 'delete', 'save-2']);
  });

  it('answers a refused message, then closes a socket refused more than the flood limit in a row', async () => {
    const { instance, events } = gate(asyncLimiter(new Set(['10.0.0.1'])), 2);
    for (const name of ['m1', 'm2', 'm3']) instance.admit(undefined, name, () => events.push(name));
    await expect.poll(() => events.length).toBe(3);
    expect(events).toEqual(['429:m1:250', '429:m2:250', 'flood']);
  });

  it('counts refusals in a row only: a message that passes starts the count again', () => {
    let refuse = true;
    const limiter: SpendMessage = (owner) => {
      if (owner === undefined && refuse) throw new RateLimitedError(100);
    };
    const { instance, events } = gate(limiter, 1);
    instance.admit(undefined, 'a', () => events.push('a'));
    refuse = false;
    instance.admit(undefined, 'b', () => events.push('b'));
    refuse = true;
    instance.admit(undefined, 'c', () => events.push('c'));
    instance.admit(undefined, 'd', () => events.push('d'));
    expect(events).toEqual(['429:a:100', 'b', '429:c:100', 'flood']);
  });

  it('reports a handler that throws after an asynchronous check', async () => {
    const { instance, errors } = gate(asyncLimiter(new Set()));
    instance.admit(alice, 'x', () => {
      throw new Error('handler failed');
    });
    await expect.poll(() => errors.length).toBe(1);
    expect(String(errors[0])).toContain('handler failed');
  });
});
