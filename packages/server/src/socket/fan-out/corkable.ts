// A stream whose writes can be held and released in one go (net.Socket): what the fan-out
// write coalescer and the Redis command cork hold.
export interface Corkable {
  cork(): void;
  uncork(): void;
}

export function isCorkable(value: unknown): value is Corkable {
  return (
    typeof value === 'object' &&
    value !== null &&
    'cork' in value &&
    typeof value.cork === 'function' &&
    'uncork' in value &&
    typeof value.uncork === 'function'
  );
}
