#!/usr/bin/env node
// `npm run check:structure` (part of `npm test`): keeps the house walkable. Fails when
//   - an import circle appears among the packages' sources (madge, type imports included);
//   - a source file grows past MAX_LINES;
//   - the client's top folder holds more than MAX_CLIENT_TOP_FILES files (roles live in folders).
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import madge from 'madge';
import { repositoryRoot } from './setup.mjs';

export const MAX_LINES = 450;
export const MAX_CLIENT_TOP_FILES = 12;
const SOURCE_ROOTS = ['packages/schema/src', 'packages/server/src', 'packages/client/src'];
const SOURCE_FILE = /\.(ts|tsx)$/;

function sourceFiles(dir) {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) return sourceFiles(path);
    return SOURCE_FILE.test(name) ? [path] : [];
  });
}

const problems = [];

const graph = await madge(
  SOURCE_ROOTS.map((root) => join(repositoryRoot, root)),
  {
    fileExtensions: ['ts', 'tsx'],
    tsConfig: join(repositoryRoot, 'tsconfig.json'),
    detectiveOptions: { ts: { skipTypeImports: false }, tsx: { skipTypeImports: false } },
  },
);
for (const circle of graph.circular()) {
  problems.push(`import circle: ${circle.join(' -> ')} -> ${circle[0]}`);
}

for (const root of SOURCE_ROOTS) {
  for (const file of sourceFiles(join(repositoryRoot, root))) {
    const lines = readFileSync(file, 'utf8').split('\n').length;
    if (lines > MAX_LINES) {
      problems.push(`${relative(repositoryRoot, file)}: ${lines} lines (at most ${MAX_LINES})`);
    }
  }
}

const clientTop = join(repositoryRoot, 'packages/client/src');
const topFiles = readdirSync(clientTop).filter((name) => statSync(join(clientTop, name)).isFile());
if (topFiles.length > MAX_CLIENT_TOP_FILES) {
  problems.push(
    `packages/client/src holds ${topFiles.length} files at its top (at most ${MAX_CLIENT_TOP_FILES}): ${topFiles.join(', ')}`,
  );
}

if (problems.length > 0) {
  process.stderr.write(`check:structure found ${problems.length} problem(s):\n`);
  for (const problem of problems) process.stderr.write(`- ${problem}\n`);
  process.exit(1);
}
process.stdout.write(
  `check:structure: ${Object.keys(graph.obj()).length} source files, no import circle, none over ${MAX_LINES} lines\n`,
);
