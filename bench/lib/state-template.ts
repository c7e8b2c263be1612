// A realistic state serialised once, with its top-level `timestamp` swappable by string
// concatenation: load generators send a fresh, increasing timestamp per request (the
// server keeps the newer state and answers 409 to an older one) without re-serialising
// 10 KB each time. The timestamp doubles as the send time for latency measurements.
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

export function createStateTemplate(targetBytes: number): StateTemplate {
  const base = Date.now();
  const json = JSON.stringify(makeState({ targetBytes, timestamp: base }));
  const at = json.indexOf(TIMESTAMP_KEY);
  const valueStart = at + TIMESTAMP_KEY.length;
  // The top-level timestamp is the second key, right after `"version":1`.
  if (at < 0 || at > 20 || !json.startsWith(String(base), valueStart)) {
    throw new StateTemplateError(
      `top-level timestamp not found at the start of ${json.slice(0, 40)}`,
    );
  }
  const prefix = json.slice(0, valueStart);
  const suffix = json.slice(valueStart + String(base).length);
  return {
    bytes: Buffer.byteLength(json),
    stateJson: (timestamp) => `${prefix}${timestamp}${suffix}`,
    saveBody: (timestamp) => `{"state":${prefix}${timestamp}${suffix}}`,
  };
}

/** Wall-clock ms with sub-ms precision, comparable between processes on one machine. */
export function preciseNow(): number {
  return performance.timeOrigin + performance.now();
}

/**
 * Reads the top-level state timestamp out of a received message without parsing it:
 * the first `"timestamp":` after `"state":{` (the state starts with version, timestamp).
 */
export function readStateTimestamp(message: Buffer): number {
  const stateAt = message.indexOf('"state":{');
  if (stateAt < 0) return Number.NaN;
  const at = message.indexOf(TIMESTAMP_KEY, stateAt);
  if (at < 0 || at - stateAt > 40) return Number.NaN;
  const start = at + TIMESTAMP_KEY.length;
  let end = start;
  while (end < message.length && end - start < 32) {
    const c = message[end];
    if (c === 0x2c || c === 0x7d) break; // , or }
    end++;
  }
  return Number(message.toString('latin1', start, end));
}
