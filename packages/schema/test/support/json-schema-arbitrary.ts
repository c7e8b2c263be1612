// fast-check values from a JSON Schema (the subset `z.toJSONSchema` writes for the state
// and wire schemas: objects, records, arrays, strings, numbers, integers, booleans, null,
// const, enum, anyOf/oneOf, patterns, bounds, and `{}` for any JSON value). Generating from the schema itself means a field added
// to the Zod schema is generated at once, so a validator that does not know it is caught.
import fc from 'fast-check';

export interface JsonSchema {
  type?: string | string[];
  const?: unknown;
  enum?: unknown[];
  anyOf?: JsonSchema[];
  oneOf?: JsonSchema[];
  properties?: Record<string, JsonSchema>;
  required?: string[];
  additionalProperties?: boolean | JsonSchema;
  items?: JsonSchema;
  maxItems?: number;
  minLength?: number;
  maxLength?: number;
  pattern?: string;
  minimum?: number;
  maximum?: number;
}

/** Large enough to matter, small enough that a run stays quick. */
const MAX_GENERATED_ITEMS = 4;
const ANY_KEY = fc.string({ maxLength: 8 });

export interface ArbitraryOptions {
  /**
   * Now and then (1 value in `nearMissEvery`), a value just outside its rule: a bound
   * passed by a little, a fraction for an integer, a string too short or off its
   * pattern, a value off its enum, one item too many. 0: never. @default 0
   */
  nearMissEvery?: number;
}

export function arbitraryOf(
  schema: JsonSchema,
  options: ArbitraryOptions = {},
): fc.Arbitrary<unknown> {
  const valid = validArbitraryOf(schema, options);
  const every = options.nearMissEvery ?? 0;
  const misses = every > 0 ? nearMissesOf(schema) : [];
  if (misses.length === 0) return valid;
  return fc.oneof(
    { arbitrary: valid, weight: every - 1 },
    { arbitrary: fc.constantFrom(...misses), weight: 1 },
  );
}

/** Values just outside the schema's own rule (not its children's). */
function nearMissesOf(schema: JsonSchema): unknown[] {
  if (schema.const !== undefined)
    return [typeof schema.const === 'number' ? schema.const + 1 : null];
  if (schema.enum) return ['not-one-of-them', null];
  const misses: unknown[] = [];
  const types = Array.isArray(schema.type) ? schema.type : [schema.type];
  if (types.includes('integer')) misses.push(0.5, (schema.minimum ?? 0) - 1);
  if (types.includes('number')) {
    if (schema.minimum !== undefined) misses.push(schema.minimum - 0.001, schema.minimum - 1);
    if (schema.maximum !== undefined) misses.push(schema.maximum + 0.001, schema.maximum + 1);
    misses.push('1');
  }
  if (types.includes('string')) {
    if (schema.minLength) misses.push('');
    if (schema.maxLength !== undefined) misses.push('x'.repeat(schema.maxLength + 1));
    if (schema.pattern) misses.push('', 'has space', 'x'.repeat(129), 'a:b');
    misses.push(1);
  }
  if (types.includes('boolean')) misses.push('true', 0);
  if (types.includes('object')) misses.push([], 'object');
  return misses;
}

function validArbitraryOf(schema: JsonSchema, options: ArbitraryOptions): fc.Arbitrary<unknown> {
  if (schema.const !== undefined) return fc.constant(schema.const);
  if (schema.enum) return fc.constantFrom(...schema.enum);
  const branches = schema.anyOf ?? schema.oneOf;
  if (branches) return fc.oneof(...branches.map((branch) => arbitraryOf(branch, options)));
  // `{}` (z.unknown()): any JSON value.
  if (schema.type === undefined) return fc.jsonValue({ maxDepth: 2 });
  const types = Array.isArray(schema.type) ? schema.type : [schema.type];
  return fc.oneof(...types.map((type) => arbitraryOfType(type, schema, options)));
}

function arbitraryOfType(
  type: string,
  schema: JsonSchema,
  options: ArbitraryOptions,
): fc.Arbitrary<unknown> {
  const min = schema.minimum;
  const max = schema.maximum;
  switch (type) {
    case 'null':
      return fc.constant(null);
    case 'boolean':
      return fc.boolean();
    case 'string':
      if (schema.pattern) return fc.stringMatching(new RegExp(schema.pattern));
      return fc.string({
        minLength: schema.minLength ?? 0,
        maxLength: Math.min(schema.maxLength ?? 12, 12),
      });
    case 'integer':
      return fc.oneof(
        fc.integer({ min: min ?? -1000, max: Math.min(max ?? 1000, 1000) }),
        fc.constantFrom(min ?? 0, max ?? 0),
      );
    case 'number':
      return fc.oneof(
        fc.double({ min: min ?? -1e15, max: max ?? 1e15, noNaN: true, noDefaultInfinity: true }),
        fc.constantFrom(min ?? 0, max ?? 0),
      );
    case 'array': {
      const items = arbitraryOf(schema.items ?? {}, options);
      const array = fc.array(items, {
        maxLength: Math.min(schema.maxItems ?? MAX_GENERATED_ITEMS, MAX_GENERATED_ITEMS),
      });
      const limit = schema.maxItems;
      if (!options.nearMissEvery || limit === undefined) return array;
      // One item too many (or exactly the limit): the items are copies of one generated item.
      const atLimit = fc
        .tuple(items, fc.constantFrom(limit, limit + 1))
        .map(([item, length]) => Array.from({ length }, () => item));
      return fc.oneof({ arbitrary: array, weight: options.nearMissEvery }, atLimit);
    }
    case 'object':
      return objectArbitrary(schema, options);
    default:
      throw new Error(`json-schema-arbitrary: no generator for type ${type}`);
  }
}

function objectArbitrary(schema: JsonSchema, options: ArbitraryOptions): fc.Arbitrary<unknown> {
  const properties = schema.properties ?? {};
  const required = new Set(schema.required ?? []);
  const shape: Record<string, fc.Arbitrary<unknown>> = {};
  for (const [key, property] of Object.entries(properties)) {
    shape[key] = arbitraryOf(property, options);
  }
  const known = fc.record(shape, {
    requiredKeys: Object.keys(properties).filter((key) => required.has(key)),
  });
  const extra = schema.additionalProperties;
  if (typeof extra !== 'object') return known;
  // A record (`z.record`): free keys, each holding a value of the given schema.
  return fc
    .tuple(known, fc.dictionary(ANY_KEY, arbitraryOf(extra, options), { maxKeys: 3 }))
    .map(([fields, more]) => ({ ...more, ...fields }));
}

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };

/** Paths to every value inside `value` (the root is `[]`). */
function pathsOf(
  value: unknown,
  prefix: Array<string | number> = [],
): Array<Array<string | number>> {
  const paths = [prefix];
  if (Array.isArray(value)) {
    for (const [index, item] of value.entries()) paths.push(...pathsOf(item, [...prefix, index]));
  } else if (typeof value === 'object' && value !== null) {
    for (const [key, item] of Object.entries(value)) paths.push(...pathsOf(item, [...prefix, key]));
  }
  return paths;
}

export type Mutation = 'replace' | 'delete' | 'add-key';

/**
 * A copy of the JSON value `value` changed at one place: a value replaced by `other`,
 * a key or item deleted, or a key added to an object. Mostly invalid, sometimes not.
 */
export function mutate(value: unknown, pick: number, mutation: Mutation, other: Json): unknown {
  const copy: unknown = JSON.parse(JSON.stringify(value));
  const paths = pathsOf(copy);
  const path = paths[pick % paths.length] ?? [];
  if (path.length === 0) return mutation === 'replace' ? other : copy;
  const last = path[path.length - 1] as string | number;
  let parent: unknown = copy;
  for (const part of path.slice(0, -1)) parent = (parent as Record<string | number, unknown>)[part];
  const holder = parent as Record<string | number, unknown>;
  if (mutation === 'replace') holder[last] = other;
  else if (mutation === 'delete' && Array.isArray(holder)) holder.splice(Number(last), 1);
  else if (mutation === 'delete') delete holder[last];
  else {
    const target = holder[last];
    if (typeof target === 'object' && target !== null && !Array.isArray(target)) {
      (target as Record<string, unknown>).unexpected = other;
    } else holder[last] = other;
  }
  return copy;
}
