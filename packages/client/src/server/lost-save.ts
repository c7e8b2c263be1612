// A save whose answer never came (its socket closed first) may or may not have been
// stored, and the client cannot ask. Merging later with the base it last agreed on would
// count what that save carried, found again in the server's copy, as the other side's
// change: the device's own older value then fights its newer edit (and may win it).
// So what the server's copy holds exactly as that save sent it is taken as part of the
// base: it is this device's own history. What the save carried and the server's copy
// lacks stays ambiguous (never stored, or stored and removed since) and is kept, as a
// local change: nothing the user did is dropped on a guess.
import { type DashboardState, jsonEqual } from '@hyvve/schema';
import { isRecord } from '../content/owner.js';

/** The merge base, with the parts of `lost` that `remote` holds unchanged taken into it. */
export function baseWithLostSave(
  base: DashboardState,
  lost: DashboardState,
  remote: DashboardState,
): DashboardState {
  return absorb(base, lost, remote) as DashboardState;
}

type Json = unknown;

function absorb(base: Json, lost: Json, remote: Json): Json {
  if (jsonEqual(lost, remote)) return lost;
  if (isItemList(base) && isItemList(lost) && isItemList(remote)) {
    return absorbItems(base, lost, remote);
  }
  if (isRecord(base) && isRecord(lost) && isRecord(remote)) {
    const result: Record<string, Json> = { ...base };
    for (const key of Object.keys(lost)) {
      if (!(key in remote)) continue;
      if (key in base) result[key] = absorb(base[key], lost[key], remote[key]);
      else if (jsonEqual(lost[key], remote[key])) result[key] = lost[key];
    }
    return result;
  }
  return base;
}

type Item = { id: string } & Record<string, Json>;

/** By id: base items (absorbed recursively), plus items the save added that remote holds. */
function absorbItems(base: Item[], lost: Item[], remote: Item[]): Item[] {
  const lostById = new Map(lost.map((item) => [item.id, item]));
  const remoteById = new Map(remote.map((item) => [item.id, item]));
  const result = base.map((item) => {
    const sent = lostById.get(item.id);
    const held = remoteById.get(item.id);
    return sent && held ? (absorb(item, sent, held) as Item) : item;
  });
  const inBase = new Set(base.map((item) => item.id));
  for (const item of lost) {
    const held = remoteById.get(item.id);
    if (!inBase.has(item.id) && held && jsonEqual(item, held)) result.push(item);
  }
  return result;
}

function isItemList(value: Json): value is Item[] {
  return (
    Array.isArray(value) && value.every((item) => isRecord(item) && typeof item.id === 'string')
  );
}
