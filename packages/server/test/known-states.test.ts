// The known states a patch starts from: what a caller gets back is the remembered state
// exactly, and what is held is bounded in characters of state JSON.
import { describe, expect, it } from 'vitest';
import { toScope } from '../src/scope.js';
import { KnownStates } from '../src/service/known-states.js';

const alice = toScope({ workspaceId: 'ws', userId: 'alice' });
const bob = toScope({ workspaceId: 'ws', userId: 'bob' });

function known(stateJson: string, revision = 1) {
  return { stateJson, revision, savedAt: 1000 + revision, epoch: 'e1' };
}

describe('KnownStates', () => {
  it('gives back the remembered text exactly, multi-byte characters included', () => {
    const states = new KnownStates();
    const text = '{"title":"Ünïcode ✓ 🚀","n":1}';
    states.remember(alice, known(text, 7));
    expect(states.get(alice)).toEqual({ stateJson: text, revision: 7, savedAt: 1007, epoch: 'e1' });
    expect(states.get(bob)).toBeUndefined();
  });

  it('replaces a user’s state, and forgets it on request', () => {
    const states = new KnownStates();
    states.remember(alice, known('{"a":1}', 1));
    states.remember(alice, known('{"a":2}', 2));
    expect(states.get(alice)?.stateJson).toBe('{"a":2}');
    states.forget(alice);
    expect(states.get(alice)).toBeUndefined();
  });

  it('bounds what it holds in characters, dropping the least recently remembered first', () => {
    // Four states of 10 characters fit in 40.
    const text = '✓'.repeat(10);
    const users = ['u1', 'u2', 'u3', 'u4', 'u5'].map((userId) =>
      toScope({ workspaceId: 'ws', userId }),
    );
    const states = new KnownStates(40);
    for (const user of users.slice(0, 4)) states.remember(user, known(text));
    expect(users.map((user) => states.get(user)?.stateJson)).toEqual([
      text,
      text,
      text,
      text,
      undefined,
    ]);
    states.remember(users[4] ?? alice, known(text));
    // 50 characters would be over 40: the oldest went.
    expect(users.map((user) => states.get(user)?.stateJson)).toEqual([
      undefined,
      text,
      text,
      text,
      text,
    ]);
  });

  it('does not keep a state over a quarter of the bound', () => {
    const states = new KnownStates(80);
    states.remember(alice, known('x'.repeat(21)));
    expect(states.get(alice)).toBeUndefined();
    states.remember(bob, known('x'.repeat(20)));
    expect(states.get(bob)?.stateJson).toBe('x'.repeat(20));
  });
});
