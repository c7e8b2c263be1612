// `serverMessageSchema.safeParse` (wire.ts) without Zod's runtime, for the browser's
// connection: the same messages accepted, with the same output (unknown keys dropped,
// `state` left unchecked). The Zod schema stays the source of truth;
// parse-server-message.property.test.ts holds this equal to it. Keep the two in step.
import { MAX_PATCH_POINTER_LENGTH } from './constants.js';
import {
  anything,
  array,
  count,
  discriminated,
  finiteNumber,
  Issues,
  integer,
  literal,
  object,
  oneOf,
  optional,
  present,
  required,
  string,
  stringUpTo,
} from './schema-parsers.js';
import type { ParsedServerMessage } from './wire.js';

const epoch = stringUpTo(64);
const pointer = stringUpTo(MAX_PATCH_POINTER_LENGTH);

const statePatch = array(
  discriminated('op', {
    add: object({
      op: required(literal('add')),
      path: required(pointer),
      value: present(anything),
    }),
    remove: object({ op: required(literal('remove')), path: required(pointer) }),
    replace: object({
      op: required(literal('replace')),
      path: required(pointer),
      value: present(anything),
    }),
  }),
);

const serverMessage = discriminated('type', {
  ready: object({
    type: required(literal('ready')),
    revision: required(count),
    epoch: optional(epoch),
    serverTime: optional(finiteNumber),
  }),
  state: object({
    type: required(literal('state')),
    state: present(anything),
    revision: required(count),
    savedAt: required(finiteNumber),
    timestamp: optional(finiteNumber),
    origin: required(string),
  }),
  deleted: object({
    type: required(literal('deleted')),
    revision: required(count),
    origin: optional(string),
  }),
  patch: object({
    type: required(literal('patch')),
    revision: required(count),
    baseRevision: required(count),
    savedAt: required(finiteNumber),
    origin: required(string),
    patch: required(statePatch),
  }),
  saved: object({
    type: required(literal('saved')),
    id: required(string),
    revision: required(count),
    savedAt: required(finiteNumber),
    epoch: optional(epoch),
  }),
  'delete-ack': object({
    type: required(literal('delete-ack')),
    id: required(string),
    revision: required(count),
    epoch: optional(epoch),
  }),
  status: object({ type: required(literal('status')), store: required(oneOf(['up', 'down'])) }),
  error: object({
    type: required(literal('error')),
    id: optional(string),
    status: required(integer),
    error: required(string),
    message: required(string),
    current: optional(
      object({
        state: present(anything),
        revision: required(count),
        savedAt: required(finiteNumber),
      }),
    ),
    revision: optional(count),
    path: optional(string),
    serverTime: optional(finiteNumber),
  }),
});

/**
 * A decoded server message checked as `serverMessageSchema` checks it: a new object
 * without unknown keys, or `null` when the schema refuses it. Never throws.
 */
export function parseServerMessage(json: unknown): ParsedServerMessage | null {
  const issues = new Issues();
  const message = serverMessage(json, [], issues);
  return issues.list.length === 0 ? (message as ParsedServerMessage) : null;
}
