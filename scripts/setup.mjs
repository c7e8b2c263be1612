#!/usr/bin/env node
// Makes a checkout ready to run, for `npm start` and `npm test` alike, saying what it does
// in one line each:
//   1. `npm ci` when node_modules is missing or package-lock.json changed since the install;
//   2. (tests only) the system programs the tests need: redis-server, redis-cli and a Chromium,
//      installed with apt-get when missing on Debian/Ubuntu as root, else one clear error;
//   3. `npm run build` when any package's build output is missing or older than its sources.
// Plain JavaScript on purpose: it runs before any dependency (tsx, TypeScript) is installed.
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import {
  canInstallWithApt,
  checkPrerequisites,
  describeMissing,
  findOnPath,
} from './lib/prerequisites.mjs';

export const repositoryRoot = join(dirname(fileURLToPath(import.meta.url)), '..');
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

export class SetupError extends Error {
  constructor(message, exitCode = 1) {
    super(message);
    this.name = 'SetupError';
    this.exitCode = exitCode;
  }
}

function log(message) {
  process.stderr.write(`setup: ${message}\n`);
}

function run(root, command, args, env = process.env) {
  log(`running ${command} ${args.join(' ')}`);
  const result = spawnSync(command, args, { cwd: root, stdio: 'inherit', env });
  if (result.error) throw new SetupError(`${command} could not start: ${result.error.message}`);
  if (result.status !== 0) {
    throw new SetupError(
      `${command} ${args.join(' ')} failed (exit ${result.status ?? result.signal})`,
      result.status ?? 1,
    );
  }
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

/** Why dependencies must be installed, or null when the install is current. */
export function dependenciesOutdated(root) {
  if (!existsSync(join(root, 'node_modules'))) return 'node_modules is missing';
  // npm writes node_modules/.package-lock.json at the end of every install.
  const installed = join(root, 'node_modules', '.package-lock.json');
  if (!existsSync(installed)) return 'node_modules holds no completed install';
  if (statSync(join(root, 'package-lock.json')).mtimeMs > statSync(installed).mtimeMs) {
    return 'package-lock.json changed since the last install';
  }
  return null;
}

export function ensureDependencies(root = repositoryRoot) {
  const reason = dependenciesOutdated(root);
  if (reason === null) {
    log('dependencies are up to date');
    return false;
  }
  log(`${reason}: installing dependencies (npm ci)`);
  run(root, npm, ['ci', '--no-audit', '--no-fund']);
  return true;
}

export function staleBuilds(root = repositoryRoot) {
  return builds.filter(({ output, sources }) => {
    const built = join(root, output);
    if (!existsSync(built)) return true;
    const builtAt = statSync(built).mtimeMs;
    return sources.some((source) => newestMtime(join(root, source)) > builtAt);
  });
}

export function ensureBuilds(root = repositoryRoot) {
  const stale = staleBuilds(root);
  if (stale.length === 0) {
    log('builds are up to date');
    return false;
  }
  log(`building (missing or out of date: ${stale.map((build) => build.name).join(', ')})`);
  run(root, npm, ['run', 'build']);
  return true;
}

/**
 * Checks redis-server, redis-cli and Chromium; installs them with apt-get when that is possible
 * without asking (root on Debian/Ubuntu), else throws one message with the commands.
 * Returns the resolved paths.
 */
export function ensureTestPrerequisites(root = repositoryRoot, env = process.env) {
  let found = checkPrerequisites(env);
  const installable = found.missing.filter((item) => item.debianPackage !== null);
  if (
    installable.length > 0 &&
    installable.length === found.missing.length &&
    canInstallWithApt(env)
  ) {
    const packages = installable.map((item) => item.debianPackage);
    log(`${packages.join(' and ')} missing: installing with apt-get`);
    const aptEnv = { ...env, DEBIAN_FRONTEND: 'noninteractive' };
    run(root, 'apt-get', ['update', '-qq'], aptEnv);
    run(root, 'apt-get', ['install', '-y', '-qq', ...packages], aptEnv);
    found = checkPrerequisites(env);
  }
  if (found.missing.length > 0) throw new SetupError(describeMissing(found.missing));
  log(
    `redis-server: ${found.redisServer}; redis-cli: ${found.redisCli}; chromium: ${found.chromium}`,
  );
  return { redisServer: found.redisServer, chromium: found.chromium };
}

/** How to install redis-server by hand, for messages. */
export const REDIS_INSTALL_HINT =
  'Debian/Ubuntu: sudo apt-get install -y redis-server; macOS: brew install redis';

/**
 * redis-server for `npm start`'s embedded store: found on PATH, else installed with apt-get
 * where that needs no asking (root on Debian/Ubuntu), the way the tests' set-up does.
 * Never throws for a missing program: returns { path: null, reason } so the caller can
 * fall back to the memory store and say why.
 */
export function ensureRedisServer(root = repositoryRoot, env = process.env) {
  const found = findOnPath('redis-server', env.PATH);
  if (found) return { path: found };
  if (!canInstallWithApt(env)) {
    return { path: null, reason: `redis-server is not installed (${REDIS_INSTALL_HINT})` };
  }
  log('redis-server missing: installing with apt-get');
  const aptEnv = { ...env, DEBIAN_FRONTEND: 'noninteractive' };
  try {
    run(root, 'apt-get', ['update', '-qq'], aptEnv);
    run(root, 'apt-get', ['install', '-y', '-qq', 'redis-server'], aptEnv);
  } catch (error) {
    if (!(error instanceof SetupError)) throw error;
    return { path: null, reason: `${error.message} (${REDIS_INSTALL_HINT})` };
  }
  const installed = findOnPath('redis-server', env.PATH);
  return installed
    ? { path: installed }
    : { path: null, reason: `apt-get installed redis-server but it is not on PATH` };
}

function main() {
  const forTests = process.argv.includes('--test');
  try {
    ensureDependencies();
    if (forTests) ensureTestPrerequisites();
    ensureBuilds();
  } catch (error) {
    if (error instanceof SetupError) {
      log(error.message);
      process.exit(error.exitCode);
    }
    throw error;
  }
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) main();
