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
    expect(store.size).toBe(3);
    now += 2000;
    await waitFor(() => store.size === 1, { what: 'the sweep' });
    expect(await store.load(kept)).not.toBeNull();
    expect(await store.revision(gone)).toBe(0);
    await store.close();
  });
});
