// The known states a patch starts from: what a caller gets back is the remembered state
// exactly, only for users who patched lately, and what is held is bounded in characters
// of state JSON.
import { describe, expect, it } from 'vitest';
import { type StateScope, toScope } from '../src/scope.js';
import { KnownStates } from '../src/service/known-states.js';

const alice = toScope({ workspaceId: 'ws', userId: 'alice' });
const bob = toScope({ workspaceId: 'ws', userId: 'bob' });

const NOW = 1_000_000;

function known(stateJson: string, revision = 1) {
  return { stateJson, revision, savedAt: 1000 + revision, epoch: 'e1' };
}

/** Known states where every user given patched just now. */
function patched(users: ReturnType<typeof toScope>[], maxChars?: number): KnownStates {
  const states = new KnownStates(maxChars);
  for (const user of users) states.patching(user, NOW);
  return states;
}

describe('KnownStates', () => {
  it('gives back the remembered text exactly, multi-byte characters included', () => {
    const states = patched([alice]);
    const text = '{"title":"Ünïcode ✓ 🚀","n":1}';
    states.remember(alice, known(text, 7), NOW);
    expect(states.get(alice)).toEqual({ stateJson: text, revision: 7, savedAt: 1007, epoch: 'e1' });
    expect(states.get(bob)).toBeUndefined();
  });

  it('replaces a user’s state, and forgets it on request', () => {
    const states = patched([alice]);
    states.remember(alice, known('{"a":1}', 1), NOW);
    states.remember(alice, known('{"a":2}', 2), NOW);
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
    const states = patched(users, 40);
    for (const user of users.slice(0, 4)) states.remember(user, known(text), NOW);
    expect(users.map((user) => states.get(user)?.stateJson)).toEqual([
      text,
      text,
      text,
      text,
      undefined,
    ]);
    states.remember(users[4] ?? alice, known(text), NOW);
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
    const states = patched([alice, bob], 80);
    states.remember(alice, known('x'.repeat(21)), NOW);
    expect(states.get(alice)).toBeUndefined();
    states.remember(bob, known('x'.repeat(20)), NOW);
    expect(states.get(bob)?.stateJson).toBe('x'.repeat(20));
  });

  it('remembers only users who patched lately, and forgets a state when they stopped', () => {
    const states = new KnownStates(1024, 60_000);
    // Never patched: nothing is kept, so a save leaves no long-lived text behind.
    states.remember(alice, known('{"a":1}', 1), NOW);
    expect(states.get(alice)).toBeUndefined();
    states.patching(alice, NOW);
    states.remember(alice, known('{"a":2}', 2), NOW + 1000);
    expect(states.get(alice)?.stateJson).toBe('{"a":2}');
    expect(states.get(bob)).toBeUndefined();
    // Still within a minute of the patch.
    states.remember(alice, known('{"a":3}', 3), NOW + 60_000);
    expect(states.get(alice)?.stateJson).toBe('{"a":3}');
    // Over a minute: the next save forgets what was held (it is outdated) and keeps nothing.
    states.remember(alice, known('{"a":4}', 4), NOW + 60_001);
    expect(states.get(alice)).toBeUndefined();
    states.remember(alice, known('{"a":5}', 5), NOW + 60_002);
    expect(states.get(alice)).toBeUndefined();
    // Patching again: remembered again.
    states.patching(alice, NOW + 70_000);
    states.remember(alice, known('{"a":6}', 6), NOW + 70_000);
    expect(states.get(alice)?.stateJson).toBe('{"a":6}');
  });

  it('bounds the users marked as patching, forgetting the least recent one’s state', () => {
    const users = ['u1', 'u2', 'u3'].map((userId) => toScope({ workspaceId: 'ws', userId }));
    const [u1, u2, u3] = users as [StateScope, StateScope, StateScope];
    const states = new KnownStates(1024, 60_000, 2);
    states.patching(u1, NOW);
    states.patching(u2, NOW);
    states.remember(u1, known('{"u":1}'), NOW);
    states.remember(u2, known('{"u":2}'), NOW);
    // u1 patches again, so u2 is now the least recent.
    states.patching(u1, NOW + 1);
    states.patching(u3, NOW + 2);
    expect(states.get(u1)?.stateJson).toBe('{"u":1}');
    expect(states.get(u2)).toBeUndefined();
    states.remember(u2, known('{"u":2}', 2), NOW + 3);
    expect(states.get(u2)).toBeUndefined();
    states.remember(u3, known('{"u":3}', 3), NOW + 3);
    expect(states.get(u3)?.stateJson).toBe('{"u":3}');
  });
});
