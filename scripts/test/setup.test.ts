// `node scripts/setup.mjs` in a copy of the repository without node_modules or builds:
// the first run installs and builds, the second finds nothing to do.
import { execFileSync, spawn } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, rmSync, utimesSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
let copy: string;

function runSetup(cwd: string): Promise<{ code: number | null; output: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['scripts/setup.mjs'], {
      cwd,
      env: { ...process.env, npm_config_loglevel: 'error' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    child.stdout.on('data', (chunk) => {
      output += chunk;
    });
    child.stderr.on('data', (chunk) => {
      output += chunk;
    });
    child.once('error', reject);
    child.once('exit', (code) => resolve({ code, output }));
  });
}

beforeAll(() => {
  copy = mkdtempSync(join(tmpdir(), 'hyvve-setup-copy-'));
  // The files a clone would have (tracked, plus new ones not yet committed).
  const files = execFileSync(
    'git',
    ['ls-files', '-z', '--cached', '--others', '--exclude-standard'],
    { cwd: root, encoding: 'utf8' },
  )
    .split('\0')
    .filter((file) => file !== '' && existsSync(join(root, file)));
  for (const file of files) {
    mkdirSync(dirname(join(copy, file)), { recursive: true });
    copyFileSync(join(root, file), join(copy, file));
  }
}, 60_000);

// A copy with its own node_modules: removing it takes long on a loaded machine.
afterAll(() => {
  if (copy) rmSync(copy, { recursive: true, force: true });
}, 120_000);

describe('scripts/setup.mjs on a fresh copy', () => {
  it('installs and builds on the first run, and does nothing on the second', async () => {
    expect(existsSync(join(copy, 'node_modules'))).toBe(false);

    const first = await runSetup(copy);
    expect(first.output).toContain('setup: node_modules is missing: installing dependencies');
    expect(first.output).toContain('setup: building (missing or out of date: @hyvve/schema');
    expect(first.code).toBe(0);
    expect(existsSync(join(copy, 'node_modules', '.package-lock.json'))).toBe(true);
    expect(existsSync(join(copy, 'packages/server/dist/main.js'))).toBe(true);
    expect(existsSync(join(copy, 'apps/web/dist/index.html'))).toBe(true);

    const second = await runSetup(copy);
    expect(second.code).toBe(0);
    expect(second.output).toContain('setup: dependencies are up to date');
    expect(second.output).toContain('setup: builds are up to date');
    expect(second.output).not.toContain('running npm');

    // A changed lockfile means a new install.
    const later = new Date(Date.now() + 5_000);
    utimesSync(join(copy, 'package-lock.json'), later, later);
    const third = await runSetup(copy);
    expect(third.code).toBe(0);
    expect(third.output).toContain('package-lock.json changed since the last install');
  }, 600_000);
});
