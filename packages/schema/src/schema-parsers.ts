// Zod's parsing rules without Zod's runtime: the few schema kinds the state and the wire
// messages use (object, array, record, optional, default, nullable, enum, numbers, strings),
// each answering as Zod does: the same output and the same issues, with Zod's paths and
// English messages. parse-state.ts and parse-server-message.ts build their schemas from these.
import { ID_PATTERN } from './constants.js';

export type Path = (string | number | symbol)[];
export type Fields = Record<PropertyKey, unknown>;

/** Issues found so far, each with its path, in the order Zod reports them. */
export class Issues {
  readonly list: { path: Path; message: string }[] = [];
  add(path: Path, message: string): void {
    this.list.push({ path: [...path], message });
  }
}

/** A field's parser: returns the output value (meaningless once an issue was added). */
export type Parse = (value: unknown, path: Path, issues: Issues) => unknown;

const MAX_SAFE = 2 ** 53 - 1; // Number.MAX_SAFE_INTEGER, which minifiers print as is

/** Zod's name for what it received (`util.parsedType`, as its English messages print it). */
function received(value: unknown): string {
  if (typeof value === 'number') return Number.isFinite(value) ? 'number' : String(value);
  if (typeof value === 'object') {
    if (value === null) return 'null';
    if (Array.isArray(value)) return 'array';
    const proto: unknown = Object.getPrototypeOf(value);
    const ctor = (value as { constructor?: { name?: string } }).constructor;
    if (proto !== Object.prototype && 'constructor' in value && ctor) return String(ctor.name);
  }
  return typeof value;
}

export function wrongType(expected: string, value: unknown, path: Path, issues: Issues): void {
  issues.add(path, `Invalid input: expected ${expected}, received ${received(value)}`);
}

export function isObject(value: unknown): value is Fields {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

// ---- primitives ----

export const string: Parse = (value, path, issues) => {
  if (typeof value !== 'string') wrongType('string', value, path, issues);
  return value;
};

/**
 * `z.string().min(1)`: an id. Zod runs a length check even on a value of the wrong type
 * when it has a `length` (an array, say), so such a value gets a second issue.
 */
export const id: Parse = (value, path, issues) => {
  if (typeof value === 'string') {
    if (value.length < 1) issues.add(path, 'Too small: expected string to have >=1 characters');
    return value;
  }
  wrongType('string', value, path, issues);
  const length = value === null || value === undefined ? undefined : (value as Fields).length;
  if (length !== undefined && !((length as number) >= 1)) {
    const origin = Array.isArray(value) ? 'array to have >=1 items' : 'unknown to be >=1';
    issues.add(path, `Too small: expected ${origin}`);
  }
  return value;
};

/** `z.string().regex(ID_PATTERN)`. */
export const idPattern: Parse = (value, path, issues) => {
  if (typeof value !== 'string') wrongType('string', value, path, issues);
  else if (!ID_PATTERN.test(value)) {
    issues.add(path, `Invalid string: must match pattern ${ID_PATTERN}`);
  }
  return value;
};

export const boolean: Parse = (value, path, issues) => {
  if (typeof value !== 'boolean') wrongType('boolean', value, path, issues);
  return value;
};

/** `z.number()`: finite numbers only. True when it is one. */
function checkNumber(value: unknown, path: Path, issues: Issues): value is number {
  if (Number.isFinite(value)) return true; // false for every non-number
  wrongType('number', value, path, issues);
  return false;
}

export const finiteNumber: Parse = (value, path, issues) => {
  checkNumber(value, path, issues);
  return value;
};

/** `z.number().finite().nonnegative()`. */
export const timestamp: Parse = (value, path, issues) => {
  if (checkNumber(value, path, issues) && value < 0) {
    issues.add(path, 'Too small: expected number to be >=0');
  }
  return value;
};

/** `z.number().min(0).max(100)`. */
export const percent: Parse = (value, path, issues) => {
  if (!checkNumber(value, path, issues)) return value;
  if (value < 0) issues.add(path, 'Too small: expected number to be >=0');
  if (value > 100) issues.add(path, 'Too big: expected number to be <=100');
  return value;
};

/** `z.number().int()`: a non-integer stops there; a safe-range miss does not. */
function checkInteger(value: unknown, path: Path, issues: Issues): value is number {
  if (!checkNumber(value, path, issues)) return false;
  if (!Number.isInteger(value)) {
    issues.add(path, 'Invalid input: expected int, received number');
    return false;
  }
  if (value > MAX_SAFE) issues.add(path, `Too big: expected int to be <=${MAX_SAFE}`);
  if (value < -MAX_SAFE) issues.add(path, `Too small: expected int to be >=${-MAX_SAFE}`);
  return true;
}

export const integer: Parse = (value, path, issues) => {
  checkInteger(value, path, issues);
  return value;
};

/** `z.number().int().min(0)` (and `.nonnegative()`): counts and revisions. */
export const count: Parse = (value, path, issues) => {
  if (checkInteger(value, path, issues) && value < 0) {
    issues.add(path, 'Too small: expected number to be >=0');
  }
  return value;
};

/**
 * `z.string().max(limit)`, counted as Zod counts: in code points (a surrogate pair is
 * one). The issue a non-string with a `length` also gets is not repeated here: the value
 * is refused either way.
 */
export function stringUpTo(limit: number): Parse {
  return (value, path, issues) => {
    if (typeof value !== 'string') wrongType('string', value, path, issues);
    else if (value.length > limit && codePointLength(value) > limit) {
      issues.add(path, `Too big: expected string to have <=${limit} characters`);
    }
    return value;
  };
}

function codePointLength(text: string): number {
  let count = text.length;
  for (let i = 0; i < text.length - 1; i++) {
    const unit = text.charCodeAt(i);
    if ((unit & 0xfc00) === 0xd800 && (text.charCodeAt(i + 1) & 0xfc00) === 0xdc00) {
      count--;
      i++;
    }
  }
  return count;
}

/** `z.unknown()`: anything, passed on as it is (its key must still be there, see `present`). */
export const anything: Parse = (value) => value;

/** `z.union([z.number(), z.string()])`. */
export const numberOrString: Parse = (value, path, issues) => {
  const ok = typeof value === 'string' || Number.isFinite(value);
  if (!ok) issues.add(path, 'Invalid input');
  return value;
};

/** `z.enum([...])`. */
export function oneOf(options: readonly string[]): Parse {
  const allowed = new Set<unknown>(options);
  const message = `Invalid option: expected one of ${options.map((o) => `"${o}"`).join('|')}`;
  return (value, path, issues) => {
    if (!allowed.has(value)) issues.add(path, message);
    return value;
  };
}

// ---- combinators (Zod's object, array, record, optional, default, nullable) ----

/**
 * How a field treats `undefined`: `required` parses it (and fails), `present` (a required
 * `z.unknown()`) needs the key to exist, `optional` keeps it, `default` replaces it.
 */
export type Field = {
  parse: Parse;
  kind: 'required' | 'present' | 'optional' | 'default';
  fallback?: unknown;
};
export type Shape = Record<string, Field>;

export const required = (parse: Parse): Field => ({ parse, kind: 'required' });
export const optional = (parse: Parse): Field => ({ parse, kind: 'optional' });
export const present = (parse: Parse): Field => ({ parse, kind: 'present' });
export const withDefault = (parse: Parse, fallback: unknown): Field => ({
  parse,
  kind: 'default',
  fallback,
});

/** `z.object(shape)`: fields in shape order, unknown keys stripped. */
export function object(shape: Shape): Parse {
  const names = Object.keys(shape);
  return (value, path, issues) => {
    if (!isObject(value)) {
      wrongType('object', value, path, issues);
      return value;
    }
    const output: Fields = {};
    for (const name of names) {
      const field = shape[name] as Field;
      const present = name in value;
      const input = value[name];
      path.push(name);
      if (field.kind === 'default' && input === undefined) output[name] = field.fallback;
      else if (field.kind === 'present' && !present) {
        issues.add(path, 'Invalid input: expected nonoptional, received undefined');
      } else if (field.kind === 'optional' && input === undefined) {
        // Absent stays absent; present with `undefined` is kept as such.
        if (present) output[name] = undefined;
      } else output[name] = field.parse(input, path, issues);
      path.pop();
    }
    return output;
  };
}

export function nullable(parse: Parse): Parse {
  return (value, path, issues) => (value === null ? null : parse(value, path, issues));
}

/** `z.array(item)` (`.max(limit)`: a longer array is refused before its items are read). */
export function array(item: Parse, limit = Infinity): Parse {
  return (value, path, issues) => {
    if (!Array.isArray(value)) {
      wrongType('array', value, path, issues);
      return value;
    }
    if (value.length > limit) {
      issues.add(path, `Too big: expected array to have <=${limit} items`);
      return value;
    }
    const output = new Array<unknown>(value.length);
    for (let i = 0; i < value.length; i++) {
      path.push(i);
      output[i] = item(value[i], path, issues);
      path.pop();
    }
    return output;
  };
}

/** Zod's `isPlainObject`: what a record accepts. */
function isPlainObject(value: unknown): value is Fields {
  if (!isObject(value)) return false;
  const ctor: unknown = value.constructor;
  if (ctor === undefined || typeof ctor !== 'function') return true;
  const proto: unknown = ctor.prototype;
  return isObject(proto) && Object.hasOwn(proto, 'isPrototypeOf');
}

/** `z.record(z.string(), item)`: enumerable own keys; a symbol key is an invalid key. */
export function stringRecord(item: Parse): Parse {
  return (value, path, issues) => {
    if (!isPlainObject(value)) {
      wrongType('record', value, path, issues);
      return value;
    }
    const output: Fields = {};
    for (const key of Reflect.ownKeys(value)) {
      if (key === '__proto__' || !Object.prototype.propertyIsEnumerable.call(value, key)) continue;
      path.push(key);
      if (typeof key === 'symbol') issues.add(path, 'Invalid key in record');
      else output[key] = item(value[key], path, issues);
      path.pop();
    }
    return output;
  };
}

/** `z.discriminatedUnion(key, ...)`: the option named by `value[key]`, else refused. */
export function discriminated(key: string, options: Record<string, Parse>): Parse {
  const names = Object.keys(options);
  const message = `Invalid discriminator value. Expected ${names.map((n) => `'${n}'`).join(' | ')}`;
  return (value, path, issues) => {
    if (!isObject(value)) {
      wrongType('object', value, path, issues);
      return value;
    }
    const tag = value[key];
    const option =
      typeof tag === 'string' && Object.hasOwn(options, tag) ? options[tag] : undefined;
    if (option === undefined) {
      path.push(key);
      issues.add(path, message);
      path.pop();
      return value;
    }
    return option(value, path, issues);
  };
}

/** `z.literal(expected)`. */
export function literal(expected: string | number): Parse {
  const shown = typeof expected === 'string' ? `"${expected}"` : String(expected);
  return (value, path, issues) => {
    if (value !== expected) issues.add(path, `Invalid input: expected ${shown}`);
    return value;
  };
}
