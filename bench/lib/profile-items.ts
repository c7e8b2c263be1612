// A server's CPU profile (node --cpu-prof) split into the items a save pays for: each
// sample goes to the innermost frame on its stack that names an item (a native frame such
// as JSON.parse counts for the JS that called it), so the items add up to the busy time.
// Divided by the saves served, it gives µs per save per item (bench/README.md, item 2).
import { readFile } from 'node:fs/promises';

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string };
  children?: number[];
}

interface CpuProfile {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
}

/** Items by the first rule matching a frame's url (or, without one, its function name). */
const ITEMS: [string, RegExp][] = [
  [
    'module loading (start-up, not per save)',
    /modules\/(cjs|esm)|wrapSafe|compileSourceTextModule|esbuild|tsx/,
  ],
  ['limits (IP + user)', /rate-limit\/|redis-token-buckets|ip-leases|user-limit|socket-limits/],
  ['metrics', /prom-client|\/metrics\/|request-metrics/],
  ['response headers', /security-headers|helmet|conditional-headers/],
  ['auth (token check)', /jose|\/auth\/|token-verifier|request-gate/],
  ['owner and clock checks', /persistable\.js|scope\.js/],
  ['JSON parse of the body', /secure-json-parse|json-text|content-type-parser/],
  [
    'JSON: canonical check, message build',
    /canonical-json|channel-event|stored-message|channel-patch/,
  ],
  ['validation (schema)', /packages\/schema\/dist|zod/],
  [
    'Redis client (command, reply)',
    /ioredis|redis-parser|evalsha-command|script-runner|iteration-cork|redis-store|replies\.js|denque|cluster-key-slot/,
  ],
  ['service and store glue', /state-persistence-service|known-states|apply-patch/],
  [
    'Fastify routing, hooks, reply',
    /fastify|find-my-way|avvio|light-my-request|state-routes|error-handler/,
  ],
  [
    'HTTP parse and socket I/O (Node)',
    /node:_http|node:net|stream_base_commons|node:internal\/streams|node:stream|node:events|node:internal\/http/,
  ],
];

export interface ProfileItems {
  /** ms of busy time per item (idle excluded). */
  itemsMs: Record<string, number>;
  busyMs: number;
}

function itemOf(node: ProfileNode): string | undefined {
  const { url, functionName } = node.callFrame;
  if (functionName === '(garbage collector)') return 'garbage collection';
  const text = url || functionName;
  for (const [item, pattern] of ITEMS) if (pattern.test(text)) return item;
  return undefined;
}

export async function profileItems(file: string): Promise<ProfileItems> {
  const profile = JSON.parse(await readFile(file, 'utf8')) as CpuProfile;
  const parent = new Map<number, number>();
  const byId = new Map<number, ProfileNode>();
  for (const node of profile.nodes) {
    byId.set(node.id, node);
    for (const child of node.children ?? []) parent.set(child, node.id);
  }
  const cache = new Map<number, string>();
  const classify = (id: number): string => {
    const known = cache.get(id);
    if (known !== undefined) return known;
    let item: string | undefined;
    // The outermost start-up frame wins (everything under module loading is start-up).
    for (let at: number | undefined = id; at !== undefined; at = parent.get(at)) {
      const node = byId.get(at);
      if (node && itemOf(node)?.startsWith('module loading')) item = itemOf(node);
    }
    for (
      let at: number | undefined = id;
      item === undefined && at !== undefined;
      at = parent.get(at)
    ) {
      const node = byId.get(at);
      if (node) item = itemOf(node);
    }
    const result = item ?? 'other';
    cache.set(id, result);
    return result;
  };
  const itemsMs: Record<string, number> = {};
  let busyMs = 0;
  profile.samples.forEach((id, index) => {
    const node = byId.get(id);
    const name = node?.callFrame.functionName;
    if (name === '(idle)' || name === '(program)') return;
    const ms = (profile.timeDeltas[index] ?? 0) / 1000;
    const item = classify(id);
    itemsMs[item] = (itemsMs[item] ?? 0) + ms;
    busyMs += ms;
  });
  return { itemsMs, busyMs };
}
