// Running engines by storage key, so the module-level `clearPersistedState()` (called
// from a logout handler, far from any hook) reaches the engine that owns the key.
import type { StatePersistence } from './types.js';

const engines = new Map<string, Set<StatePersistence>>();

/** Registers a started engine; returns the unregister. */
export function registerEngine(engine: StatePersistence): () => void {
  let set = engines.get(engine.storageKey);
  if (!set) {
    set = new Set();
    engines.set(engine.storageKey, set);
  }
  set.add(engine);
  return () => {
    set.delete(engine);
    if (set.size === 0) engines.delete(engine.storageKey);
  };
}

export function enginesFor(storageKey: string): StatePersistence[] {
  return [...(engines.get(storageKey) ?? [])];
}
