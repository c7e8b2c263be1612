// The server's clock as seen from this device. The server refuses a save stamped more
// than MAX_CLOCK_SKEW_MS ahead of its own clock (400, path `timestamp`): a device whose
// clock runs ahead would otherwise win every newer-wins comparison. So what this client
// sends is stamped at most at the server's time: the offset is learned from server times
// (`ready.serverTime`, `savedAt` of fresh saves) and carried forward on a monotonic clock,
// so it survives the wall clock being changed afterwards. The local state keeps its own
// timestamps (tabs of one device share its clock); only the copy sent is re-stamped.

export interface ServerClock {
  /** A server time (ms since epoch) just received from the server. */
  observe(serverTime: number): void;
  /**
   * `timestamp` if the server's clock has reached it, else the server's time now, but not
   * below `floor` (the held server copy's timestamp + 1, so the save is still the newer).
   */
  stamp(timestamp: number, floor?: number): number;
  /**
   * The server refused a stamp anyway (the estimate was off, e.g. another instance's
   * clock): from now on stamp at most the last server time seen, until the next sample.
   */
  distrust(): void;
}

export function createServerClock(monotonic: () => number = defaultMonotonic): ServerClock {
  /** Server time minus monotonic time at the last sample. */
  let offset: number | undefined;
  let lastSeen: number | undefined;
  let distrusted = false;

  const serverNow = (): number | undefined => {
    if (offset === undefined) return undefined;
    return distrusted ? lastSeen : offset + monotonic();
  };

  return {
    observe(serverTime) {
      if (!Number.isFinite(serverTime)) return;
      offset = serverTime - monotonic();
      lastSeen = serverTime;
      distrusted = false;
    },
    stamp(timestamp, floor) {
      const now = serverNow();
      if (now === undefined || timestamp <= now) return timestamp;
      return Math.min(timestamp, Math.max(Math.floor(now), floor ?? -Infinity));
    },
    distrust() {
      distrusted = true;
    },
  };
}

function defaultMonotonic(): number {
  return typeof performance === 'undefined' ? Date.now() : performance.now();
}
