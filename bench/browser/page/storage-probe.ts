// Counts and times every localStorage write, whoever makes it, by wrapping
// Storage.prototype.setItem for the duration of a measurement.

export interface StorageProbe {
  readonly calls: number;
  readonly ms: number;
  readonly bytes: number;
  uninstall(): void;
}

export function installStorageProbe(): StorageProbe {
  const original = Storage.prototype.setItem;
  const probe = { calls: 0, ms: 0, bytes: 0 };
  Storage.prototype.setItem = function setItem(this: Storage, key: string, value: string): void {
    const started = performance.now();
    try {
      original.call(this, key, value);
    } finally {
      probe.ms += performance.now() - started;
      probe.calls++;
      probe.bytes += value.length;
    }
  };
  return {
    get calls() {
      return probe.calls;
    },
    get ms() {
      return probe.ms;
    },
    get bytes() {
      return probe.bytes;
    },
    uninstall() {
      Storage.prototype.setItem = original;
    },
  };
}
