#!/usr/bin/env node
// What the browser client weighs for a page, bundled the two ways a team builds one:
// esbuild (`--bundle --minify`) and a Vite library build (Rolldown), React, React DOM and
// Zustand external, from the built packages (dist), minified and gzipped. `npm run size`
// is the budget check (size-limit, .size-limit.json); this script adds the Vite figure
// and the narrower page of issue 26. Needs `npm run build` first.
//   node scripts/client-size.mjs            # table on stdout
//   node scripts/client-size.mjs --json     # the same figures as JSON
//   node scripts/client-size.mjs --modules  # what each module costs in the esbuild bundle
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

/**
 * What each module of the "everything" page costs in the esbuild bundle: its minified
 * bytes (the sourcemap's ranges) and the gzip bytes the bundle loses without them. A
 * module's gzip cost depends on the rest (repeated names compress), so the column does not
 * add up to the total exactly; it says where the bytes are, not what a cut will save.
 */
export async function moduleCosts() {
  const { build } = await import('esbuild');
  const entry = writeEntry('modules', CLIENT_ENTRIES['client . + ./react (everything)']);
  const result = await build({
    entryPoints: [entry],
    bundle: true,
    minify: true,
    format: 'esm',
    platform: 'browser',
    external: EXTERNAL,
    sourcemap: 'external',
    outdir: join(entryDirectory, 'out'),
    write: false,
    logLevel: 'silent',
  });
  const code = result.outputFiles.find((file) => file.path.endsWith('.js')).text;
  const map = JSON.parse(result.outputFiles.find((file) => file.path.endsWith('.map')).text);
  const owners = ownerOfEachChar(code, map);
  const total = gzipSync(code, { level: 9 }).length;
  const rows = map.sources.map((source, index) => {
    let kept = '';
    let minBytes = 0;
    for (let i = 0; i < code.length; i++) {
      if (owners[i] === index) minBytes++;
      else kept += code[i];
    }
    const name = source.replace(/^.*?packages\//, '').replace('/dist/', '/src/');
    return {
      module: name.replace(/\.js$/, '.ts'),
      minBytes,
      gzipBytes: total - gzipSync(kept, { level: 9 }).length,
    };
  });
  return {
    minBytes: code.length,
    gzipBytes: total,
    modules: rows.filter((row) => row.minBytes > 0).sort((a, b) => b.gzipBytes - a.gzipBytes),
  };
}

/** For each char of the (one-line-per-chunk) bundle, the index of the source it came from. */
function ownerOfEachChar(code, map) {
  const owners = new Int32Array(code.length).fill(-1);
  const lineStarts = [0];
  for (let i = 0; i < code.length; i++) if (code[i] === '\n') lineStarts.push(i + 1);
  const marks = [];
  let source = 0;
  map.mappings.split(';').forEach((line, lineIndex) => {
    let column = 0;
    for (const segment of line.split(',')) {
      if (segment === '') continue;
      const fields = decodeVlq(segment);
      column += fields[0];
      if (fields.length > 1) {
        source += fields[1];
        marks.push([lineStarts[lineIndex] + column, source]);
      }
    }
  });
  // Source-map fields 2-4 (line, column, name) are not needed, only which source.
  marks.sort((a, b) => a[0] - b[0]);
  for (let m = 0; m < marks.length; m++) {
    const end = m + 1 < marks.length ? marks[m + 1][0] : code.length;
    owners.fill(marks[m][1], marks[m][0], end);
  }
  return owners;
}

const BASE64 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/';

/** A source-map segment's base64 VLQ fields. */
function decodeVlq(segment) {
  const fields = [];
  let value = 0;
  let shift = 0;
  for (const char of segment) {
    const digit = BASE64.indexOf(char);
    value += (digit & 31) << shift;
    if (digit & 32) {
      shift += 5;
      continue;
    }
    fields.push(value & 1 ? -(value >>> 1) : value >>> 1);
    value = 0;
    shift = 0;
  }
  return fields;
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
  if (process.argv.includes('--modules')) {
    const costs = await moduleCosts();
    process.stdout.write(
      `esbuild, . + ./react: ${kb(costs.minBytes)} minified, ${kb(costs.gzipBytes)} gzip\n\n`,
    );
    process.stdout.write('| module | minified B | gzip B (without it) |\n|---|---:|---:|\n');
    for (const row of costs.modules) {
      process.stdout.write(`| ${row.module} | ${row.minBytes} | ${row.gzipBytes} |\n`);
    }
    process.exit(0);
  }
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
