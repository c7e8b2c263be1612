// What only the memory store does: expire entries on its own clock and sweep them
// away, so an embedded server does not grow with users who never come back.
import { describe, expect, it } from 'vitest';
import { MemoryStateStore, stateScope } from '../src/index.js';
import { waitFor } from './support/wait-for.js';

describe('MemoryStateStore', () => {
  it('sweeps expired states and counters without being asked for them', async () => {
    let now = 1_000_000;
    const store = new MemoryStateStore({ now: () => now, sweepIntervalMs: 10 });
    const kept = stateScope('acme', 'kept');
    const gone = stateScope('acme', 'gone');
    const save = { stateJson: '{}', timestamp: 1, version: 1, savedAt: 1, origin: 'o' };
    await store.save(gone, { ...save, ttlSeconds: 1 });
    await store.delete(gone, { ttlSeconds: 1 });
    await store.save(gone, { ...save, ttlSeconds: 1 });
    await store.save(kept, { ...save, ttlSeconds: 60 });
    // Two states and two counters.
    expect(store.size).toBe(4);
    now += 1500;
    // The state is gone; its counter (twice the TTL) keeps the revision.
    await waitFor(() => store.size === 3, { what: 'the sweep of the state' });
    expect(await store.revision(gone)).toBe(3);
    now += 1000;
    await waitFor(() => store.size === 2, { what: 'the sweep of the counter' });
    expect(await store.load(kept)).not.toBeNull();
    expect(await store.revision(gone)).toBe(0);
    await store.close();
  });

  it('starts a new epoch when a counter expired, and tells open listeners to reset', async () => {
    let now = 1_000_000;
    const store = new MemoryStateStore({ now: () => now });
    const user = stateScope('acme', 'epochs');
    const save = { stateJson: '{}', timestamp: 1, version: 1, savedAt: 1, origin: 'o' };
    const first = await store.save(user, { ...save, ttlSeconds: 1 });
    const seen: string[] = [];
    const subscription = await store.subscribe(
      user,
      (event) => seen.push(`event ${event.revision}`),
      (head) => seen.push(`reset ${head.revision}`),
    );
    expect(subscription.epoch).toBe(first.status === 'saved' ? first.epoch : undefined);
    now += 2001; // state and counter expired
    const next = await store.save(user, { ...save, ttlSeconds: 1 });
    expect(next).toMatchObject({ status: 'saved', revision: 1 });
    expect(next.status === 'saved' && first.status === 'saved' && next.epoch !== first.epoch).toBe(
      true,
    );
    await waitFor(() => seen.length === 2, { what: 'the reset and the state' });
    expect(seen).toEqual(['reset 1', 'event 1']);
    await store.close();
  });
});
