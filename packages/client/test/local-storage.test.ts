import { STATE_TTL_MS } from '@hyvve/schema';
import { describe, expect, it } from 'vitest';
import { makeState } from '../../../test-support/fixtures.js';
import {
  backoffDelay,
  isQuotaExceeded,
  parseEnvelope,
  readEnvelope,
  removeEnvelope,
  resolveServerEndpoints,
  StateTooLargeError,
  StorageAccessError,
  StorageQuotaError,
  writeEnvelope,
} from './support/client.js';
import { BrokenStorage, QuotaStorage, SpyStorage } from './support/fakes.js';

const now = 1_700_000_000_000;
const opts = { ttlMs: STATE_TTL_MS, now };

describe('localStorage envelope', () => {
  it('round-trips an envelope with origin and revision', () => {
    const storage = new SpyStorage();
    const state = makeState({ timestamp: now });
    writeEnvelope(storage, 'k', { format: 1, state, savedAt: now, origin: 'o', revision: 3 });
    const result = readEnvelope(storage, 'k', opts);
    expect(result).toEqual({
      kind: 'loaded',
      envelope: { format: 1, state, savedAt: now, origin: 'o', revision: 3 },
    });
  });

  it('refuses a state of multi-byte text whose UTF-16 length fits but whose UTF-8 bytes do not', () => {
    const storage = new SpyStorage();
    const state = makeState({ activeProject: 'ü'.repeat(600), timestamp: now });
    const limit = Buffer.byteLength(JSON.stringify(state)) - 1;
    expect(JSON.stringify({ format: 1, state, savedAt: now }).length).toBeLessThan(limit);
    let thrown: unknown;
    try {
      writeEnvelope(storage, 'k', { format: 1, state, savedAt: now }, limit);
    } catch (error) {
      thrown = error;
    }
    expect(thrown).toBeInstanceOf(StateTooLargeError);
    expect(thrown).toMatchObject({ bytes: limit + 1, limit });
    expect(storage.writes).toHaveLength(0);
  });

  it('writes a state exactly at the limit in UTF-8 bytes', () => {
    const storage = new SpyStorage();
    const state = makeState({ activeProject: '€😀'.repeat(300), timestamp: now });
    const limit = Buffer.byteLength(JSON.stringify(state));
    writeEnvelope(storage, 'k', { format: 1, state, savedAt: now }, limit);
    expect(storage.writes).toHaveLength(1);
  });

  it('answers empty when nothing is stored', () => {
    expect(readEnvelope(new SpyStorage(), 'k', opts)).toEqual({ kind: 'empty' });
  });

  it.each([
    ['not JSON', '{', '(root)'],
    ['not an object', '[1,2]', '(root)'],
    ['an unknown format', JSON.stringify({ format: 9, state: {}, savedAt: now }), 'format'],
    ['a missing savedAt', JSON.stringify({ format: 1, state: makeState() }), 'savedAt'],
    [
      'a wrong-shape state',
      JSON.stringify({ format: 1, state: { version: 1 }, savedAt: now }),
      'state.timestamp',
    ],
  ])('rejects %s and names where', (_label, raw, path) => {
    const result = parseEnvelope('k', raw, opts);
    expect(result.kind).toBe('invalid');
    if (result.kind === 'invalid') expect(result.error.path).toBe(path);
  });

  it.each([
    ['not JSON', '{', '(root)', /^not JSON \(.+\)$/],
    ['JSON null', 'null', '(root)', /^expected an object$/],
    ['a number', '42', '(root)', /^expected an object$/],
    ['a string', '"state"', '(root)', /^expected an object$/],
    [
      'an unknown format',
      JSON.stringify({ format: 9, savedAt: now }),
      'format',
      /^unknown envelope format 9$/,
    ],
    [
      'no format',
      JSON.stringify({ state: makeState(), savedAt: now }),
      'format',
      /^unknown envelope format undefined$/,
    ],
    // A `format` key makes it an envelope, whatever else it holds.
    [
      'a state with a format key',
      JSON.stringify({ ...makeState(), format: 2 }),
      'format',
      /^unknown envelope format 2$/,
    ],
    [
      'savedAt as text',
      JSON.stringify({ format: 1, state: makeState(), savedAt: '5' }),
      'savedAt',
      /^expected a number$/,
    ],
    [
      'an infinite savedAt',
      `{"format":1,"state":${JSON.stringify(makeState())},"savedAt":1e999}`,
      'savedAt',
      /^expected a number$/,
    ],
  ])('refuses %s with the key, the path and the reason', (_label, raw, path, reason) => {
    const result = parseEnvelope('dash', raw, opts);
    expect(result.kind).toBe('invalid');
    if (result.kind !== 'invalid') return;
    expect(result.error.source).toBe('localStorage "dash"');
    expect(result.error.path).toBe(path);
    expect(result.error.reason).toMatch(reason);
  });

  it('reads a bare state of earlier versions once, dated by its timestamp', () => {
    const state = makeState({ timestamp: now - 5 });
    expect(parseEnvelope('k', JSON.stringify(state), opts)).toStrictEqual({
      kind: 'loaded',
      envelope: { format: 1, state, savedAt: now - 5 },
    });
  });

  it('keeps only well-formed optional fields: owner, origin, an integer revision and its epoch', () => {
    const state = makeState({ timestamp: now });
    const read = (extra: Record<string, unknown>) =>
      parseEnvelope('k', JSON.stringify({ format: 1, state, savedAt: now, ...extra }), opts);
    expect(read({})).toStrictEqual({
      kind: 'loaded',
      envelope: { format: 1, state, savedAt: now },
    });
    const owner = { workspaceId: 'acme', userId: 'u1' };
    expect(read({ owner, origin: 'tab-1', revision: 4, epoch: 'e1' })).toStrictEqual({
      kind: 'loaded',
      envelope: {
        format: 1,
        state,
        savedAt: now,
        owner,
        origin: 'tab-1',
        revision: 4,
        epoch: 'e1',
      },
    });
    // Malformed ones are dropped, the state is kept.
    expect(
      read({ owner: { workspaceId: 'acme' }, origin: 7, revision: '4', epoch: 'e1' }),
    ).toStrictEqual({ kind: 'loaded', envelope: { format: 1, state, savedAt: now } });
    expect(read({ revision: 1.5, epoch: 'e1' })).toStrictEqual({
      kind: 'loaded',
      envelope: { format: 1, state, savedAt: now },
    });
    expect(read({ revision: 4, epoch: 9 })).toStrictEqual({
      kind: 'loaded',
      envelope: { format: 1, state, savedAt: now, revision: 4 },
    });
  });

  it('keeps a state exactly as old as the TTL, and marks one a millisecond older stale', () => {
    const at = (savedAt: number) =>
      parseEnvelope('k', JSON.stringify({ format: 1, state: makeState(), savedAt }), opts).kind;
    expect(at(now - STATE_TTL_MS)).toBe('loaded');
    expect(at(now - STATE_TTL_MS - 1)).toBe('stale');
  });

  it('names the operation that failed on a broken storage', () => {
    const storage = new BrokenStorage();
    const read = readEnvelope(storage, 'k', opts);
    expect(read.kind === 'unreadable' && read.error.operation).toBe('read');
    let thrown: unknown;
    try {
      writeEnvelope(storage, 'k', { format: 1, state: makeState(), savedAt: now });
    } catch (error) {
      thrown = error;
    }
    expect(thrown).toBeInstanceOf(StorageAccessError);
    expect((thrown as StorageAccessError).operation).toBe('write');
  });

  it('marks a state older than the TTL stale, with its age', () => {
    const raw = JSON.stringify({ format: 1, state: makeState(), savedAt: now - STATE_TTL_MS - 1 });
    expect(parseEnvelope('k', raw, opts)).toEqual({
      kind: 'stale',
      savedAt: now - STATE_TTL_MS - 1,
      ageMs: STATE_TTL_MS + 1,
    });
  });

  it('reports a storage that cannot be read', () => {
    const result = readEnvelope(new BrokenStorage(), 'k', opts);
    expect(result.kind).toBe('unreadable');
  });

  it('turns a full quota into StorageQuotaError with the size', () => {
    const storage = new QuotaStorage(10);
    expect(() =>
      writeEnvelope(storage, 'k', { format: 1, state: makeState(), savedAt: now }),
    ).toThrow(StorageQuotaError);
  });

  it('turns other write and remove failures into StorageAccessError', () => {
    const storage = new BrokenStorage();
    expect(() =>
      writeEnvelope(storage, 'k', { format: 1, state: makeState(), savedAt: now }),
    ).toThrow(StorageAccessError);
    expect(() => removeEnvelope(storage, 'k')).toThrow(/remove of "k" failed/);
  });

  it('recognises the quota errors of every browser', () => {
    expect(isQuotaExceeded(new DOMException('full', 'QuotaExceededError'))).toBe(true);
    expect(isQuotaExceeded({ name: 'NS_ERROR_DOM_QUOTA_REACHED' })).toBe(true);
    expect(isQuotaExceeded({ code: 22 })).toBe(true);
    expect(isQuotaExceeded(new Error('other'))).toBe(false);
    expect(isQuotaExceeded(null)).toBe(false);
  });
});

describe('reconnect backoff', () => {
  it('grows exponentially up to the cap, with jitter in the upper half', () => {
    const low = { random: () => 0, initialDelayMs: 100, maxDelayMs: 1000 };
    const high = { random: () => 0.999999, initialDelayMs: 100, maxDelayMs: 1000 };
    expect([0, 1, 2, 3, 4, 10].map((n) => backoffDelay(n, low))).toEqual([
      50, 100, 200, 400, 500, 500,
    ]);
    expect(backoffDelay(0, high)).toBe(100);
    expect(backoffDelay(10, high)).toBe(1000);
  });
});

describe('server endpoints', () => {
  it('derives http and ws URLs from an http base', () => {
    expect(resolveServerEndpoints('http://127.0.0.1:3000')).toEqual({
      stateUrl: 'http://127.0.0.1:3000/api/dashboard/state',
      subscribeUrl: 'ws://127.0.0.1:3000/api/dashboard/state/subscribe?patches=1',
    });
  });

  it('keeps a base path and uses wss for https', () => {
    expect(resolveServerEndpoints('https://example.com/app/')).toEqual({
      stateUrl: 'https://example.com/app/api/dashboard/state',
      subscribeUrl: 'wss://example.com/app/api/dashboard/state/subscribe?patches=1',
    });
  });

  it('resolves a relative URL against the page', () => {
    expect(resolveServerEndpoints('/', 'https://dash.example.com/board').subscribeUrl).toBe(
      'wss://dash.example.com/api/dashboard/state/subscribe?patches=1',
    );
  });
});
