#!/usr/bin/env node
// `npm start`: makes a fresh clone runnable, then runs the server.
//   1. `npm ci` when node_modules is missing;
//   2. `npm run build` when any package's build output is missing or older than its sources;
//   3. `node packages/server/dist/main.js`, forwarding signals and the exit code.
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, readdirSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const npm = process.platform === 'win32' ? 'npm.cmd' : 'npm';

/** Each build's marker output and the sources it is made from. */
const builds = [
  {
    name: '@hyvve/schema',
    output: 'packages/schema/dist/index.js',
    sources: [
      'packages/schema/src',
      'packages/schema/package.json',
      'packages/schema/tsconfig.build.json',
    ],
  },
  {
    name: '@hyvve/server',
    output: 'packages/server/dist/main.js',
    sources: [
      'packages/server/src',
      'packages/server/package.json',
      'packages/server/tsconfig.build.json',
    ],
  },
  {
    name: '@hyvve/client',
    output: 'packages/client/dist/index.js',
    sources: [
      'packages/client/src',
      'packages/client/package.json',
      'packages/client/tsconfig.build.json',
    ],
  },
  {
    name: '@hyvve/web',
    output: 'apps/web/dist/index.html',
    sources: [
      'apps/web/src',
      'apps/web/public',
      'apps/web/index.html',
      'apps/web/package.json',
      'apps/web/vite.config.ts',
    ],
  },
];

function log(message) {
  process.stderr.write(`start: ${message}\n`);
}

/** Latest modification time under a file or folder (0 when it does not exist). */
function newestMtime(path) {
  if (!existsSync(path)) return 0;
  const stats = statSync(path);
  if (!stats.isDirectory()) return stats.mtimeMs;
  let newest = 0;
  for (const entry of readdirSync(path)) newest = Math.max(newest, newestMtime(join(path, entry)));
  return newest;
}

function staleBuilds() {
  return builds.filter(({ output, sources }) => {
    const built = join(root, output);
    if (!existsSync(built)) return true;
    const builtAt = statSync(built).mtimeMs;
    return sources.some((source) => newestMtime(join(root, source)) > builtAt);
  });
}

function run(command, args) {
  log(`${command} ${args.join(' ')}`);
  const result = spawnSync(command, args, { cwd: root, stdio: 'inherit' });
  if (result.error) throw result.error;
  if (result.status !== 0) {
    log(`${command} ${args.join(' ')} failed (exit ${result.status ?? result.signal})`);
    process.exit(result.status ?? 1);
  }
}

if (!existsSync(join(root, 'node_modules'))) {
  log('node_modules is missing: installing dependencies');
  run(npm, ['ci', '--no-audit', '--no-fund']);
}

const stale = staleBuilds();
if (stale.length > 0) {
  log(`building (missing or out of date: ${stale.map((build) => build.name).join(', ')})`);
  run(npm, ['run', 'build']);
} else {
  log('builds are up to date');
}

const server = spawn(process.execPath, [join(root, 'packages/server/dist/main.js')], {
  cwd: root,
  stdio: 'inherit',
});
for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP']) {
  process.on(signal, () => {
    if (server.exitCode === null) server.kill(signal);
  });
}
server.on('error', (error) => {
  log(`could not start the server: ${error.message}`);
  process.exit(1);
});
server.on('exit', (code, signal) => {
  if (signal) {
    // Exit the way the server did, so callers see the same signal status.
    process.removeAllListeners(signal);
    process.kill(process.pid, signal);
    return;
  }
  process.exit(code ?? 1);
});
