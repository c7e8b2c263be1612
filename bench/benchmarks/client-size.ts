// Client size (issue 26): what the browser client adds to a page, `@hyvve/client`'s `.`
// and `./react` entries bundled with esbuild (minified, React, React DOM and Zustand
// external) and gzipped, against the budget `npm run size` enforces (.size-limit.json).
// Bundled from the sources (the `source` export condition), so no build is needed and the
// figure is the checked-out code's. `npm run size:report` adds the Vite library build.
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';
import { build } from 'esbuild';
import type { Figure } from '../lib/results.js';
import type { Benchmark } from './context.js';

const root = fileURLToPath(new URL('../..', import.meta.url));
const EXTERNAL = ['react', 'react-dom', 'zustand'];
/** The issue's goal; the enforced budget is .size-limit.json's (what the code meets today). */
const ISSUE_TARGET_KB = 15;

interface SizeLimitEntry {
  name: string;
  limit: string;
}

/** The client entry's limit in .size-limit.json, in KB (size-limit's kB: 1000 bytes). */
function budgetKb(): number {
  const entries = JSON.parse(readFileSync(`${root}.size-limit.json`, 'utf8')) as SizeLimitEntry[];
  const client = entries.find((entry) => entry.name.startsWith('@hyvve/client'));
  const match = client?.limit.match(/^([\d.]+)\s*kB$/i);
  if (!match?.[1]) throw new Error('.size-limit.json: no "@hyvve/client" entry with a kB limit');
  return Number(match[1]);
}

export const clientSize: Benchmark = async (context) => {
  const result = await build({
    stdin: {
      contents: "export * from '@hyvve/client';\nexport * from '@hyvve/client/react';\n",
      resolveDir: root,
      loader: 'js',
    },
    bundle: true,
    minify: true,
    format: 'esm',
    platform: 'browser',
    conditions: ['source'],
    external: EXTERNAL,
    write: false,
    logLevel: 'silent',
  });
  const code = Buffer.concat(result.outputFiles.map((file) => Buffer.from(file.contents)));
  const gzipKb = gzipSync(code).length / 1000;
  const minifiedKb = code.length / 1000;
  context.log(`client-size: ${minifiedKb.toFixed(1)} kB minified, ${gzipKb.toFixed(2)} kB gzip`);
  const figure: Figure = {
    benchmark: 'client-size',
    label: 'Browser client (. + ./react, esbuild, gzip)',
    unit: 'kB',
    ours: Math.round(gzipKb * 100) / 100,
    baseline: null,
    baselineLabel: '',
    target: { kind: 'at-most', value: budgetKb() },
    note: `budget from .size-limit.json; issue 26 aims at ${ISSUE_TARGET_KB} kB; ${minifiedKb.toFixed(1)} kB minified`,
  };
  return { figures: [figure], details: { minifiedBytes: code.length, gzipKb } };
};
