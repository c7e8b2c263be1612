// What the bench page exposes on `window.benchPage`, shared by the page and the Node
// side that drives it through Playwright (types only on the Node side).

export type WriteCostKind = 'control' | 'ours' | 'zustand-persist';

export interface WriteCostRun {
  kind: WriteCostKind;
  /** Approximate JSON size of the state being updated. */
  stateBytes: number;
  updates: number;
  /** The updates are spread evenly over this long. */
  durationMs: number;
  /** Waiting after the last update, so a debounced save lands inside the measurement. */
  settleMs: number;
}

export interface WriteCostPageResult {
  kind: WriteCostKind;
  stateJsonBytes: number;
  updates: number;
  /** Wall time of the update phase. */
  loopMs: number;
  /** Time spent inside the update calls themselves (synchronous persistence shows here). */
  updateCallsMs: number;
  setItemCalls: number;
  setItemMs: number;
  setItemBytes: number;
}

export interface PropagationSetup {
  storageKey: string;
  /** Present for the through-the-server case. */
  server?: { url: string; token: string };
}

export interface BenchPageApi {
  /** Starts the contender for `run` (start-up work is not measured). */
  writeCostPrepare(run: WriteCostRun): Promise<void>;
  /** Runs the prepared updates and waits `settleMs`: the measured phase. */
  writeCostRun(): Promise<WriteCostPageResult>;
  /** Starts a store with our persistence; resolves once it is initialised (and synced, with a server). */
  propagationStart(setup: PropagationSetup): Promise<{ syncStatus: string }>;
  /** Makes change number `marker`; returns its send time (ms, sub-ms precision, wall clock). */
  propagationSend(marker: number): number;
  /** Arrival times of the changes seen so far, by marker. */
  propagationReceived(): Record<number, number>;
}

declare global {
  interface Window {
    benchPage: BenchPageApi;
  }
}
