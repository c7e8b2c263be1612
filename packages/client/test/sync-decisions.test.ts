// The pure decisions of server sync, without sockets: tables for the cases the protocol
// relies on, and fast-check for the rules that hold for every input.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  InvalidPersistedStateError,
  ServerRejectedError,
  ServerUnreachableError,
  TokenError,
} from '../src/errors.js';
import { isNewEpoch } from '../src/server/base.js';
import {
  decideEmptyServer,
  decideReconcile,
  decideRemote,
  decideSaveError,
  isRetryablePullError,
} from '../src/server/decisions.js';

const versioned = fc.record({ timestamp: fc.nat(), origin: fc.string({ maxLength: 4 }) });

describe('decideRemote (three-way rule)', () => {
  it.each([
    ['local unchanged, same timestamp', false, 5, 5, 'same'],
    ['local unchanged, server moved on', false, 5, 9, 'adopt'],
    ['local unchanged, server older (a reset)', false, 9, 5, 'adopt'],
    ['local changed, server newer', true, 5, 9, 'adopt'],
    ['local changed and newer', true, 9, 5, 'keep-local'],
  ] as const)('%s → %s', (_name, localChanged, localTs, remoteTs, expected) => {
    const decision = decideRemote({
      localChanged,
      local: { timestamp: localTs, origin: 'a' },
      remote: { timestamp: remoteTs, origin: 'a' },
    });
    expect(decision).toBe(expected);
  });

  it('breaks a timestamp tie by origin, the same way on both sides', () => {
    const a = { timestamp: 7, origin: 'device-a' };
    const b = { timestamp: 7, origin: 'device-b' };
    expect(decideRemote({ localChanged: true, local: a, remote: b })).toBe('adopt');
    expect(decideRemote({ localChanged: true, local: b, remote: a })).toBe('keep-local');
  });

  it('never keeps local content that did not change', () => {
    fc.assert(
      fc.property(versioned, versioned, (local, remote) => {
        expect(decideRemote({ localChanged: false, local, remote })).not.toBe('keep-local');
      }),
    );
  });

  it('two sides that both changed pick the same winner', () => {
    fc.assert(
      fc.property(versioned, versioned, (x, y) => {
        fc.pre(x.timestamp !== y.timestamp || x.origin !== y.origin);
        const here = decideRemote({ localChanged: true, local: x, remote: y });
        const there = decideRemote({ localChanged: true, local: y, remote: x });
        // Exactly one side adopts the other's state.
        expect([here, there].sort()).toEqual(['adopt', 'keep-local']);
      }),
    );
  });
});

describe('decideEmptyServer', () => {
  it.each([
    ['empty dashboard', true, 3, 5, 'nothing-to-restore'],
    ['deleted since the last sync', false, 3, 5, 'deleted-since-sync'],
    ['expired (counter where it was)', false, 5, 5, 'restore'],
    ['data lost (counter went back)', false, 5, 0, 'restore'],
    ['first use', false, undefined, 0, 'restore'],
  ] as const)('%s → %s', (_name, localEmpty, syncedRevision, knownRevision, expected) => {
    expect(decideEmptyServer({ localEmpty, syncedRevision, knownRevision })).toBe(expected);
  });

  it('never wipes local content unless the server moved past the agreed revision', () => {
    fc.assert(
      fc.property(fc.option(fc.nat(), { nil: undefined }), fc.nat(), (synced, known) => {
        const decision = decideEmptyServer({
          localEmpty: false,
          syncedRevision: synced,
          knownRevision: known,
        });
        if (synced === undefined || known <= synced) expect(decision).toBe('restore');
      }),
    );
  });
});

describe('decideReconcile', () => {
  const facts = {
    deleteQueued: false,
    deletePending: false,
    knownRevision: 4,
    syncedRevision: 4,
    localChanged: false,
  };
  it.each([
    ['a queued delete goes first', { deleteQueued: true, knownRevision: 9 }, 'send-queued-delete'],
    ['waits for a delete in flight', { deletePending: true, localChanged: true }, 'await-delete'],
    ['server moved on', { knownRevision: 9, localChanged: true }, 'pull'],
    ['server went back', { knownRevision: 1 }, 'pull'],
    ['local changed only', { localChanged: true }, 'push'],
    ['nothing to do', {}, 'settled'],
    [
      'first connect to an empty server',
      { knownRevision: 0, syncedRevision: undefined },
      'settled',
    ],
  ] as const)('%s', (_name, overrides, expected) => {
    expect(decideReconcile({ ...facts, ...overrides })).toBe(expected);
  });
});

describe('decideSaveError', () => {
  it.each([
    [412, false, 'stale-base'],
    [409, true, 'conflict'],
    [409, false, 'failed'],
    [429, false, 'retry'],
    [503, false, 'retry'],
    [400, false, 'refused'],
    [413, false, 'refused'],
    // Only a 409 carries a stored state to merge with: any other status decides alone.
    [429, true, 'retry'],
    [400, true, 'refused'],
  ] as const)('%i (current: %s) → %s', (status, hasCurrent, expected) => {
    expect(decideSaveError(status, hasCurrent)).toBe(expected);
  });
});

describe('isRetryablePullError', () => {
  it('retries outages, token failures and 5xx, not bad answers', () => {
    expect(isRetryablePullError(new ServerUnreachableError('u', undefined, 'down'))).toBe(true);
    expect(isRetryablePullError(new TokenError(new Error('x')))).toBe(true);
    expect(isRetryablePullError(new ServerRejectedError(503, 'store_unavailable', ''))).toBe(true);
    expect(isRetryablePullError(new ServerRejectedError(400, 'invalid_request', ''))).toBe(false);
    expect(isRetryablePullError(new InvalidPersistedStateError('GET', '(root)', 'bad'))).toBe(
      false,
    );
  });
});

describe('isNewEpoch', () => {
  it.each([
    [undefined, 'a', false, 'first ready'],
    ['a', 'a', false, 'same store'],
    ['a', 'b', true, 'store reset'],
    ['a', '', true, 'counter lost'],
    ['', 'a', false, 'counter created (first save)'],
    ['', '', false, 'still nothing stored'],
    ['a', undefined, false, 'a server that names no epoch'],
  ] as const)('%j → %j: %s (%s)', (known, next, expected, _case) => {
    expect(isNewEpoch(known, next)).toBe(expected);
  });

  it("does not take 'x' → '' for a reset while the revision did not go back", () => {
    // An instance that subscribed before the counter existed names '' (found by the
    // convergence property test: the client dropped its merge base and lost edits).
    expect(isNewEpoch('a', '', false)).toBe(false);
    expect(isNewEpoch('a', '', true)).toBe(true);
    expect(isNewEpoch('a', 'b', false)).toBe(true);
  });
});
