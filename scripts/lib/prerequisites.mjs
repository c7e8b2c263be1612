// System programs the tests need beyond npm packages: a redis-server and redis-cli (tests
// start their own servers and clusters on free ports) and a Chromium or Chrome (end-to-end tests and browser benchmarks).
// Pure look-ups over an injected environment, so they are tested with a fake PATH.
import { accessSync, constants, statSync } from 'node:fs';
import { delimiter, isAbsolute, join } from 'node:path';

/** Names a Chromium-compatible browser goes by on PATH, in order of preference. */
export const CHROMIUM_NAMES = [
  'chromium',
  'chromium-browser',
  'google-chrome',
  'google-chrome-stable',
  'chrome',
];

/** Where macOS installs the browsers (not on PATH there). */
export const MACOS_BROWSER_PATHS = [
  '/Applications/Chromium.app/Contents/MacOS/Chromium',
  '/Applications/Google Chrome.app/Contents/MacOS/Google Chrome',
];

function isExecutableFile(path) {
  try {
    if (!statSync(path).isFile()) return false;
    accessSync(path, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

/** The first executable `name` on `pathVariable` (a PATH string), or null. */
export function findOnPath(name, pathVariable) {
  for (const dir of (pathVariable ?? '').split(delimiter)) {
    if (dir === '') continue;
    const candidate = join(dir, name);
    if (isExecutableFile(candidate)) return candidate;
  }
  return null;
}

/**
 * The Chromium to launch: CHROMIUM_PATH when set (it must exist: a typo is an error, not
 * a silent fallback), else the first known name on PATH, else a macOS application path.
 * @returns {{ path: string | null, source: 'CHROMIUM_PATH' | 'PATH' | 'macOS' | null, error?: string }}
 */
export function resolveChromium(env = process.env, platform = process.platform) {
  const configured = env.CHROMIUM_PATH;
  if (configured !== undefined && configured !== '') {
    if (isAbsolute(configured) && isExecutableFile(configured)) {
      return { path: configured, source: 'CHROMIUM_PATH' };
    }
    const onPath = isAbsolute(configured) ? null : findOnPath(configured, env.PATH);
    if (onPath) return { path: onPath, source: 'CHROMIUM_PATH' };
    return {
      path: null,
      source: 'CHROMIUM_PATH',
      error: `CHROMIUM_PATH=${configured} is not an executable file`,
    };
  }
  for (const name of CHROMIUM_NAMES) {
    const found = findOnPath(name, env.PATH);
    if (found) return { path: found, source: 'PATH' };
  }
  if (platform === 'darwin') {
    for (const path of MACOS_BROWSER_PATHS) {
      if (isExecutableFile(path)) return { path, source: 'macOS' };
    }
  }
  return { path: null, source: null };
}

/**
 * What is missing for the tests. Each entry names the Debian package that provides it
 * (installed automatically when allowed) and how to install it by hand.
 */
export function checkPrerequisites(env = process.env, platform = process.platform) {
  const missing = [];
  const redis = findOnPath('redis-server', env.PATH);
  if (!redis) {
    missing.push({
      name: 'redis-server',
      debianPackage: 'redis-server',
      debian: 'sudo apt-get install -y redis-server',
      macos: 'brew install redis',
    });
  }
  // The Redis Cluster tests join their nodes with redis-cli (Debian: redis-tools).
  const redisCli = findOnPath('redis-cli', env.PATH);
  if (!redisCli) {
    missing.push({
      name: 'redis-cli',
      debianPackage: 'redis-tools',
      debian: 'sudo apt-get install -y redis-tools',
      macos: 'brew install redis',
    });
  }
  const chromium = resolveChromium(env, platform);
  if (!chromium.path) {
    missing.push({
      name: 'chromium',
      // A CHROMIUM_PATH that points nowhere is the user's setting to fix, not a package.
      debianPackage: chromium.error ? null : 'chromium',
      reason: chromium.error,
      debian: 'sudo apt-get install -y chromium',
      macos: 'brew install --cask chromium   (or set CHROMIUM_PATH to Google Chrome)',
    });
  }
  return { redisServer: redis, redisCli, chromium: chromium.path, missing };
}

/** Whether missing packages may be installed here with apt-get, without asking. */
export function canInstallWithApt(env = process.env, platform = process.platform) {
  const isRoot = typeof process.getuid === 'function' && process.getuid() === 0;
  return platform === 'linux' && isRoot && findOnPath('apt-get', env.PATH) !== null;
}

/** One message naming every missing program and the exact commands that install it. */
export function describeMissing(missing) {
  const lines = ['missing system prerequisites for the tests:'];
  for (const item of missing) {
    lines.push(`  - ${item.name}${item.reason ? ` (${item.reason})` : ''}`);
    lines.push(`      Debian/Ubuntu: ${item.debian}`);
    lines.push(`      macOS (Homebrew): ${item.macos}`);
  }
  lines.push('  CHROMIUM_PATH may name any Chromium or Chrome binary to use instead.');
  return lines.join('\n');
}
