// Whose dashboard a store holds in memory. The store outlives its engines: when the
// person signed in changes, the app's engine is stopped and a new one started on the same
// store, which still holds the previous person's dashboard. The new engine would take it
// for content set before hydration and save it as the new person's; so each engine notes
// on the store whose content it held, and one of another owner empties the store first.
import type { Owner } from '../content/owner.js';
import type { PersistableStore } from './types.js';

const owners = new WeakMap<PersistableStore, Owner | null>();

/** Notes that `store` holds `owner`'s content. */
export function markStoreOwner(store: PersistableStore, owner: Owner | null): void {
  owners.set(store, owner);
}

/** The owner an engine last noted for `store`; undefined when no engine ran on it. */
export function storeOwner(store: PersistableStore): Owner | null | undefined {
  return owners.get(store);
}
