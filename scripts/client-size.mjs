#!/usr/bin/env node
// What the browser client weighs for a page, bundled the two ways a team builds one:
// esbuild (`--bundle --minify`) and a Vite library build (Rolldown), React, React DOM and
// Zustand external, from the built packages (dist), minified and gzipped. `npm run size`
// is the budget check (size-limit, .size-limit.json); this script adds the Vite figure
// and the narrower page of issue 26. Needs `npm run build` first.
//   node scripts/client-size.mjs            # table on stdout
//   node scripts/client-size.mjs --json     # the same figures as JSON
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';

const root = fileURLToPath(new URL('..', import.meta.url));
/** Entries are written inside the checkout so that `@hyvve/*` resolves as in an app. */
const entryDirectory = join(root, 'node_modules', '.cache', 'client-size');
export const EXTERNAL = ['react', 'react-dom', 'react/jsx-runtime', 'zustand', 'zustand/*'];

/** What a page imports: the whole public API, or the three calls issue 26 measured. */
export const CLIENT_ENTRIES = {
  'client . + ./react (everything)': [
    "export * from '@hyvve/client';",
    "export * from '@hyvve/client/react';",
  ],
  'page importing 3 calls (issue 26)': [
    "export { createDashboardStore, createStatePersistence } from '@hyvve/client';",
    "export { useStatePersistence } from '@hyvve/client/react';",
  ],
};

function writeEntry(name, lines) {
  mkdirSync(entryDirectory, { recursive: true });
  const file = join(entryDirectory, `${name.replace(/[^a-z0-9]+/gi, '-')}.js`);
  writeFileSync(file, `${lines.join('\n')}\n`);
  return file;
}

function sizes(code) {
  const bytes = Buffer.from(code);
  return { minBytes: bytes.length, gzipBytes: gzipSync(bytes, { level: 9 }).length };
}

/** esbuild bundle + minify, as size-limit's esbuild plugin measures it. */
export async function esbuildSize(entryFile) {
  const { build } = await import('esbuild');
  const result = await build({
    entryPoints: [entryFile],
    bundle: true,
    minify: true,
    format: 'esm',
    platform: 'browser',
    external: EXTERNAL,
    write: false,
    logLevel: 'silent',
  });
  return sizes(result.outputFiles.map((file) => file.text).join(''));
}

/** `vite build` in library mode (ES output, minified). */
export async function viteSize(entryFile) {
  const { build } = await import('vite');
  const output = await build({
    configFile: false,
    logLevel: 'silent',
    root: entryDirectory,
    build: {
      lib: { entry: entryFile, formats: ['es'], fileName: 'page' },
      write: false,
      minify: true,
      rollupOptions: { external: (id) => EXTERNAL.some((name) => matches(name, id)) },
    },
  });
  const outputs = Array.isArray(output) ? output : [output];
  const code = outputs
    .flatMap((o) => o.output)
    .filter((chunk) => chunk.type === 'chunk')
    .map((chunk) => chunk.code)
    .join('');
  return sizes(code);
}

function matches(pattern, id) {
  return pattern.endsWith('/*') ? id.startsWith(pattern.slice(0, -1)) : id === pattern;
}

export async function measureClientSizes() {
  const rows = [];
  for (const [name, lines] of Object.entries(CLIENT_ENTRIES)) {
    const entry = writeEntry(name, lines);
    rows.push({ entry: name, esbuild: await esbuildSize(entry), vite: await viteSize(entry) });
  }
  return rows;
}

/** kB of 1000 bytes, as size-limit and Vite print them. */
const kb = (bytes) => `${(bytes / 1000).toFixed(1)} kB`;

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const rows = await measureClientSizes();
  if (process.argv.includes('--json')) {
    process.stdout.write(`${JSON.stringify(rows, null, 2)}\n`);
  } else {
    process.stdout.write('| entry | bundler | minified | gzip |\n|---|---|---:|---:|\n');
    for (const row of rows) {
      for (const bundler of ['vite', 'esbuild']) {
        const { minBytes, gzipBytes } = row[bundler];
        process.stdout.write(
          `| ${row.entry} | ${bundler} | ${kb(minBytes)} | ${kb(gzipBytes)} |\n`,
        );
      }
    }
  }
}
