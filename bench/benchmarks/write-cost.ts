// 4. Browser write cost: 1,000 updates in 1 s to a ~100 KB state in Chromium. Counts
// localStorage writes and the main-thread time spent persisting: the page's task time
// with persistence minus the same updates with none (control), ours against Zustand's
// `persist` middleware on the same store shape and updates, in the same page build.
import type { Browser } from 'playwright-core';
import { buildBenchPage, serveBenchPage } from '../browser/bench-page.js';
import { launchChromium } from '../browser/chromium.js';
import { type MainThreadTime, meterMainThread } from '../browser/main-thread-time.js';
import type { WriteCostKind, WriteCostPageResult, WriteCostRun } from '../browser/page/api.js';
import { startPageProfiler } from '../browser/page-profiler.js';
import type { Figure } from '../lib/results.js';
import { median } from '../lib/stats.js';
import type { Benchmark } from './context.js';

const KINDS: readonly WriteCostKind[] = ['control', 'zustand-persist', 'ours'];

interface Sample {
  kind: WriteCostKind;
  repetition: number;
  page: WriteCostPageResult;
  mainThread: MainThreadTime;
}

async function sample(
  browser: Browser,
  url: string,
  run: WriteCostRun,
  profile?: { dir: string; sequence: number },
): Promise<Omit<Sample, 'repetition'>> {
  // A fresh context per sample: nothing (storage, JIT state of the page) carries over.
  const context = await browser.newContext();
  try {
    const page = await context.newPage();
    await page.goto(url);
    await page.waitForFunction(() => window.benchPage !== undefined);
    const meter = await meterMainThread(page);
    await page.evaluate((r) => window.benchPage.writeCostPrepare(r), run);
    const profiler = profile ? await startPageProfiler(page) : undefined;
    const before = await meter.read();
    const result = await page.evaluate(() => window.benchPage.writeCostRun());
    const after = await meter.read();
    if (profile) await profiler?.stop(profile.dir, profile.sequence);
    await meter.close();
    return {
      kind: run.kind,
      page: result,
      mainThread: {
        taskMs: after.taskMs - before.taskMs,
        scriptMs: after.scriptMs - before.scriptMs,
      },
    };
  } finally {
    await context.close();
  }
}

export const writeCost: Benchmark = async (context) => {
  const repetitions = context.quick ? 1 : 3;
  const settings = { stateBytes: 100_000, updates: 1000, durationMs: 1000, settleMs: 1500 };
  context.log('write-cost: building the bench page');
  await buildBenchPage();
  const server = await serveBenchPage();
  const browser = await launchChromium();
  const samples: Sample[] = [];
  const errors: Partial<Record<WriteCostKind, string>> = {};
  try {
    for (let repetition = 1; repetition <= repetitions; repetition++) {
      for (const kind of KINDS) {
        if (errors[kind]) continue;
        try {
          const profile = context.profileDir
            ? { dir: `${context.profileDir}/write-cost-page-${kind}`, sequence: repetition }
            : undefined;
          const run = { kind, ...settings };
          samples.push({ ...(await sample(browser, server.url, run, profile)), repetition });
        } catch (error) {
          context.log(
            `write-cost: ${kind} failed: ${error instanceof Error ? error.message : error}`,
          );
          errors[kind] = String(error).split('\n')[0] ?? String(error);
        }
      }
    }
  } finally {
    await browser.close();
    await server.close();
  }

  const of = (kind: WriteCostKind): Sample[] => samples.filter((s) => s.kind === kind);
  const medianOf = (kind: WriteCostKind, pick: (s: Sample) => number): number | null =>
    of(kind).length === 0 ? null : median(of(kind).map(pick));
  const controlTask = medianOf('control', (s) => s.mainThread.taskMs);
  /** Main-thread ms above the control's: the cost of persisting. */
  const persistingMs = (kind: WriteCostKind): number | null => {
    const task = medianOf(kind, (s) => s.mainThread.taskMs);
    return task === null || controlTask === null ? null : Math.max(0, task - controlTask);
  };
  const oursInvalid = errors.ours ?? (errors.control ? `control: ${errors.control}` : undefined);
  const figures: Figure[] = [
    {
      benchmark: 'write-cost',
      label: 'Browser localStorage writes (1,000 updates in 1 s, 100 KB state)',
      unit: 'writes',
      ours: medianOf('ours', (s) => s.page.setItemCalls),
      baseline: medianOf('zustand-persist', (s) => s.page.setItemCalls),
      baselineLabel: 'zustand persist',
      target: { kind: 'at-most', value: 3 },
      ...(errors.ours ? { invalid: errors.ours } : {}),
    },
    {
      benchmark: 'write-cost',
      label: 'Browser main-thread time persisting',
      unit: 'ms',
      ours: persistingMs('ours'),
      baseline: persistingMs('zustand-persist'),
      baselineLabel: 'zustand persist',
      target: { kind: 'ratio-at-most', value: 0.05 },
      ...(oursInvalid ? { invalid: oursInvalid } : {}),
      note: `page task time minus the control's (${controlTask === null ? 'n/a' : controlTask.toFixed(1)} ms for the same updates without persistence), median of ${repetitions}`,
    },
    {
      benchmark: 'write-cost',
      label: 'Browser time inside localStorage.setItem',
      unit: 'ms',
      ours: medianOf('ours', (s) => s.page.setItemMs),
      baseline: medianOf('zustand-persist', (s) => s.page.setItemMs),
      baselineLabel: 'zustand persist',
      target: { kind: 'info' },
    },
  ];
  return { figures, details: { settings, repetitions, samples, errors } };
};
