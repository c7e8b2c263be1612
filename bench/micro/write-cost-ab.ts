// Side-by-side write-cost of two or more source trees (e.g. a commit's worktree and
// HEAD), run by hand, not part of `npm run bench`. Each tree's bench page is built from
// its own sources; the samples are interleaved in one Chromium, so a busy machine weighs
// on every tree alike (separate `--only write-cost` runs hours apart do not compare):
//   git worktree add /tmp/old <commit>   (and copy node_modules into it)
//   npx tsx bench/micro/write-cost-ab.ts 8 old=/tmp/old new=.
// Prints each tree's median page task time per contender and ours − control.
import { resolve } from 'node:path';
import { build, preview } from 'vite';
import { freePort } from '../../test-support/redis-server.js';
import { launchChromium } from '../browser/chromium.js';
import { meterMainThread } from '../browser/main-thread-time.js';
import type { WriteCostKind, WriteCostRun } from '../browser/page/api.js';
import { median } from '../lib/stats.js';

const [repetitionsArg, ...treeArgs] = process.argv.slice(2);
const repetitions = Number(repetitionsArg);
const trees = treeArgs.map((arg) => {
  const [label, path] = arg.split('=');
  if (!label || !path) throw new Error(`expected label=path, got '${arg}'`);
  return { label, path: resolve(path) };
});
if (!Number.isInteger(repetitions) || repetitions < 1 || trees.length === 0) {
  throw new Error('usage: write-cost-ab.ts <repetitions> <label=tree> [<label=tree> ...]');
}
const kinds: WriteCostKind[] = ['control', 'ours', 'zustand-persist'];
const settings = { stateBytes: 100_000, updates: 1000, durationMs: 1000, settleMs: 1500 };

const pages: Array<{ label: string; url: string; close(): Promise<void> }> = [];
for (const tree of trees) {
  const root = `${tree.path}/bench/browser/page`;
  const outDir = `${tree.path}/bench/results/tmp/ab-page-${tree.label}`;
  const alias = {
    '@hyvve/client': `${tree.path}/packages/client/src/index.ts`,
    '@hyvve/schema': `${tree.path}/packages/schema/src/index.ts`,
  };
  await build({
    root,
    configFile: false,
    logLevel: 'warn',
    resolve: { alias },
    build: { outDir, emptyOutDir: true, target: 'es2022', sourcemap: false, minify: false },
  });
  const port = await freePort();
  const server = await preview({
    root,
    configFile: false,
    logLevel: 'warn',
    build: { outDir },
    preview: { host: '127.0.0.1', port, strictPort: true },
  });
  pages.push({ label: tree.label, url: `http://127.0.0.1:${port}/`, close: () => server.close() });
}

const taskMs = new Map<string, number[]>();
const browser = await launchChromium();
try {
  for (let repetition = 0; repetition < repetitions; repetition++) {
    for (const page of pages) {
      for (const kind of kinds) {
        const context = await browser.newContext();
        try {
          const tab = await context.newPage();
          await tab.goto(page.url);
          await tab.waitForFunction(() => window.benchPage !== undefined);
          const meter = await meterMainThread(tab);
          const run: WriteCostRun = { kind, ...settings };
          await tab.evaluate((r) => window.benchPage.writeCostPrepare(r), run);
          const before = await meter.read();
          await tab.evaluate(() => window.benchPage.writeCostRun());
          const after = await meter.read();
          await meter.close();
          const key = `${page.label} ${kind}`;
          taskMs.set(key, [...(taskMs.get(key) ?? []), after.taskMs - before.taskMs]);
        } finally {
          await context.close();
        }
      }
    }
  }
} finally {
  await browser.close();
  await Promise.all(pages.map((page) => page.close()));
}

for (const page of pages) {
  const of = (kind: WriteCostKind): number[] => taskMs.get(`${page.label} ${kind}`) ?? [];
  const line = kinds.map((kind) => `${kind} ${median(of(kind)).toFixed(1)}`).join(' · ');
  const persisting = median(of('ours')) - median(of('control'));
  const ratio = persisting / (median(of('zustand-persist')) - median(of('control')));
  process.stdout.write(
    `${page.label}: median task ms ${line}; ours − control ${persisting.toFixed(1)} ms (${ratio.toFixed(3)} ×)\n`,
  );
}
