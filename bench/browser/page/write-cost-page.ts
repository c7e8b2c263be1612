// In-page half of the write-cost benchmark: prepare a contender, then run the updates
// (spread over the given time) and wait for debounced saves, counting storage writes.
import type { WriteCostPageResult, WriteCostRun } from './api.js';
import { benchState, nextUpdate } from './bench-state.js';
import { type Contender, startContender } from './contenders.js';
import { installStorageProbe } from './storage-probe.js';

let prepared: { run: WriteCostRun; contender: Contender; stateJsonBytes: number } | null = null;

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

export async function writeCostPrepare(run: WriteCostRun): Promise<void> {
  localStorage.clear();
  const initial = benchState(run.stateBytes);
  const contender = await startContender(run.kind, initial);
  prepared = { run, contender, stateJsonBytes: JSON.stringify(initial).length };
  // Let start-up work (hydration, first writes) finish outside the measured phase.
  await sleep(50);
}

export async function writeCostRun(): Promise<WriteCostPageResult> {
  if (!prepared) throw new Error('writeCostPrepare first');
  const { run, contender, stateJsonBytes } = prepared;
  const probe = installStorageProbe();
  let done = 0;
  let updateCallsMs = 0;
  const started = performance.now();
  try {
    await new Promise<void>((resolve) => {
      const tick = (): void => {
        const elapsed = performance.now() - started;
        const due = Math.min(run.updates, Math.ceil((elapsed / run.durationMs) * run.updates));
        while (done < due) {
          const before = performance.now();
          contender.setState(nextUpdate(contender.getState(), done));
          updateCallsMs += performance.now() - before;
          done++;
        }
        if (done >= run.updates) resolve();
        else setTimeout(tick, 1);
      };
      setTimeout(tick, 1);
    });
    const loopMs = performance.now() - started;
    await sleep(run.settleMs);
    return {
      kind: run.kind,
      stateJsonBytes,
      updates: done,
      loopMs,
      updateCallsMs,
      setItemCalls: probe.calls,
      setItemMs: probe.ms,
      setItemBytes: probe.bytes,
    };
  } finally {
    probe.uninstall();
    await contender.dispose();
    prepared = null;
  }
}
