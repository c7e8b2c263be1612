// The service's checks of what a save stores, one rule at a time: the owner named in the
// state, the clock skew allowed (to the ms), the received text kept only when canonical,
// and the state validated, defaulted and reset before it is stored.
import { describe, expect, it } from 'vitest';
import { makeState } from '../../../test-support/fixtures.js';
import { ClockAheadError, InvalidStateError } from '../src/errors.js';
import { stateScope } from '../src/scope.js';
import { checkClock, checkOwner, persistable, serialise } from '../src/service/persistable.js';

const scope = stateScope('acme', 'alice');

function thrown(run: () => unknown): unknown {
  try {
    run();
  } catch (error) {
    return error;
  }
  return undefined;
}

describe('checkOwner', () => {
  it('accepts a state naming its own owner, or none', () => {
    const state = makeState();
    expect(() => checkOwner(state, scope)).not.toThrow();
    expect(() =>
      checkOwner({ ...state, workspaceId: 'acme', userId: 'alice' }, scope),
    ).not.toThrow();
  });

  it('refuses another workspace, naming the field', () => {
    const error = thrown(() => checkOwner({ ...makeState(), workspaceId: 'other' }, scope));
    expect(error).toBeInstanceOf(InvalidStateError);
    expect((error as InvalidStateError).path).toBe('workspaceId');
    expect((error as Error).message).toBe(
      'state is invalid at workspaceId: names another workspace than the one it is saved for',
    );
  });

  it('refuses another user, naming the field', () => {
    const error = thrown(() => checkOwner({ ...makeState(), userId: 'bob' }, scope));
    expect(error).toBeInstanceOf(InvalidStateError);
    expect((error as InvalidStateError).path).toBe('userId');
    expect((error as Error).message).toBe(
      'state is invalid at userId: names another user than the one it is saved for',
    );
  });
});

describe('checkClock', () => {
  it('accepts a timestamp up to maxClockSkewMs ahead, and any behind', () => {
    expect(() => checkClock(11_000, 10_000, 1000)).not.toThrow();
    expect(() => checkClock(0, 10_000, 1000)).not.toThrow();
  });

  it('refuses one ms more, with the server time and the figures', () => {
    const error = thrown(() => checkClock(11_000.6, 10_000, 1000));
    expect(error).toBeInstanceOf(ClockAheadError);
    expect((error as ClockAheadError).serverTime).toBe(10_000);
    expect((error as ClockAheadError).path).toBe('timestamp');
    expect((error as Error).message).toBe(
      'state is invalid at timestamp: 11000.6 is 1001 ms ahead of the server clock ' +
        '(at most 1000 ms allowed; check the device clock)',
    );
  });
});

describe('serialise', () => {
  it('keeps the received text when it is canonical', () => {
    const state = makeState({ timestamp: 1_700_000_000_000 });
    const text = `{"state":${JSON.stringify(state)},"x":1}`;
    expect(serialise(state, { text, start: 9 })).toBe(JSON.stringify(state));
  });

  it('serialises when the text spells it another way, or there is none', () => {
    const state = makeState({ timestamp: 1_700_000_000_000 });
    const spaced = JSON.stringify(state, null, 1);
    expect(serialise(state, { text: spaced, start: 0 })).toBe(JSON.stringify(state));
    expect(serialise(state, undefined)).toBe(JSON.stringify(state));
  });
});

describe('persistable', () => {
  it('returns a complete, persistable state itself', () => {
    const state = makeState({ timestamp: 1_700_000_000_000 });
    expect(persistable(state)).toBe(state);
  });

  it('resets the transient parts (loading, errors) of a state that has them', () => {
    const state = {
      ...makeState({ timestamp: 1_700_000_000_000 }),
      loading: { isLoading: true, loadingAgents: [] },
    };
    const stored = persistable(state);
    expect(stored.loading).toEqual({ isLoading: false, loadingAgents: [] });
    expect(stored.errors).toEqual({});
    expect(stored.timestamp).toBe(1_700_000_000_000);
  });

  it('refuses an invalid state with the path and message of the failure', () => {
    const error = thrown(() => persistable({ ...makeState(), timestamp: 'soon' }));
    expect(error).toBeInstanceOf(InvalidStateError);
    expect((error as InvalidStateError).path).toBe('timestamp');
    expect((error as Error).message).toMatch(/^state is invalid at timestamp/);
  });

  it('applies defaults and drops unknown keys of an incomplete state', () => {
    const state = { ...makeState({ timestamp: 1_700_000_000_000 }), extra: 'dropped' };
    const stored = persistable(state);
    expect(stored).not.toBe(state);
    expect(stored).not.toHaveProperty('extra');
    expect(stored.timestamp).toBe(1_700_000_000_000);
  });
});
