// A realistic state serialised once, with the parts a change touches swappable by string
// concatenation: load generators send a fresh, increasing timestamp per request (the
// server keeps the newer state and answers 409 to an older one) without re-serialising
// 10 KB each time. Each save is what an agent updating one metric sends: the top-level
// `timestamp`, the metrics widget's `lastUpdated` and one metric's `value` change. The
// timestamp doubles as the send time for latency measurements.
import { makeState } from '../../test-support/fixtures.js';

export class StateTemplateError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'StateTemplateError';
  }
}

export interface StateTemplate {
  /** UTF-8 bytes of the state's JSON. */
  readonly bytes: number;
  /** The state's JSON with this top-level timestamp. */
  stateJson(timestamp: number): string;
  /** An HTTP save body `{"state": ...}` with this top-level timestamp. */
  saveBody(timestamp: number): string;
}

const TIMESTAMP_KEY = '"timestamp":';
// Values no fixture produces, to find where the metric's value and `lastUpdated` go.
const VALUE_MARK = 987654.125;
const UPDATED_MARK = 1_999_999_999_999;

/** Splits `json` around the one occurrence of `${key}${mark}`. */
function splitAt(json: string, key: string, mark: number): [string, string] {
  const needle = `${key}${mark}`;
  const at = json.indexOf(needle);
  if (at < 0 || json.indexOf(needle, at + 1) >= 0) {
    throw new StateTemplateError(`expected exactly one ${needle} in the template state`);
  }
  return [json.slice(0, at + key.length), json.slice(at + needle.length)];
}

/** The metric value a save with this timestamp carries (changes with every save). */
export function metricValueFor(timestamp: number): number {
  return Math.round(timestamp * 10) % 1_000_000;
}

export function createStateTemplate(targetBytes: number): StateTemplate {
  const base = Date.now();
  const state = makeState({ targetBytes, timestamp: base });
  const metrics = state.widgets.metrics;
  const first = metrics?.metrics[0];
  if (!metrics || !first) throw new StateTemplateError('the fixture state has no metric');
  first.value = VALUE_MARK;
  metrics.lastUpdated = UPDATED_MARK;
  const json = JSON.stringify(state);
  const at = json.indexOf(TIMESTAMP_KEY);
  const valueStart = at + TIMESTAMP_KEY.length;
  // The top-level timestamp is the second key, right after `"version":1`.
  if (at < 0 || at > 20 || !json.startsWith(String(base), valueStart)) {
    throw new StateTemplateError(
      `top-level timestamp not found at the start of ${json.slice(0, 40)}`,
    );
  }
  const head = json.slice(0, valueStart);
  const [middle, afterValue] = splitAt(
    json.slice(valueStart + String(base).length),
    '"value":',
    VALUE_MARK,
  );
  const [beforeUpdated, tail] = splitAt(afterValue, '"lastUpdated":', UPDATED_MARK);
  const stateJson = (timestamp: number): string =>
    `${head}${timestamp}${middle}${metricValueFor(timestamp)}${beforeUpdated}${timestamp}${tail}`;
  return {
    bytes: Buffer.byteLength(json),
    stateJson,
    saveBody: (timestamp) => `{"state":${stateJson(timestamp)}}`,
  };
}

/** Wall-clock ms with sub-ms precision, comparable between processes on one machine. */
export function preciseNow(): number {
  return performance.timeOrigin + performance.now();
}

const PATCH_TIMESTAMP = '"path":"/timestamp","value":';

/**
 * Reads the top-level state timestamp out of a received message without parsing it:
 * the first `"timestamp":` after `"state":{` (the state starts with version, timestamp),
 * or, in a `patch` message, the value of its last `/timestamp` operation (a patch that
 * brings several changes at once sets it once per change; the last is the state the
 * reader lands on).
 */
export function readStateTimestamp(message: Buffer): number {
  const stateAt = message.indexOf('"state":{');
  let start: number;
  if (stateAt >= 0) {
    const at = message.indexOf(TIMESTAMP_KEY, stateAt);
    if (at < 0 || at - stateAt > 40) return Number.NaN;
    start = at + TIMESTAMP_KEY.length;
  } else {
    const at = message.lastIndexOf(PATCH_TIMESTAMP);
    if (at < 0) return Number.NaN;
    start = at + PATCH_TIMESTAMP.length;
  }
  let end = start;
  while (end < message.length && end - start < 32) {
    const c = message[end];
    if (c === 0x2c || c === 0x7d) break; // , or }
    end++;
  }
  return Number(message.toString('latin1', start, end));
}
