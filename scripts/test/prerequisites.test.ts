// The prerequisite check against a fake PATH: folders holding stand-in executables.
import { chmodSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import {
  checkPrerequisites,
  describeMissing,
  findOnPath,
  resolveChromium,
} from '../lib/prerequisites.mjs';

const folders: string[] = [];
afterEach(() => {
  for (const folder of folders.splice(0)) rmSync(folder, { recursive: true, force: true });
});

/** A folder holding executables (or plain files, when `executable` is false) of these names. */
function binFolder(names: readonly string[], executable = true): string {
  const folder = mkdtempSync(join(tmpdir(), 'hyvve-fake-bin-'));
  folders.push(folder);
  for (const name of names) {
    const path = join(folder, name);
    writeFileSync(path, '#!/bin/sh\nexit 0\n');
    chmodSync(path, executable ? 0o755 : 0o644);
  }
  return folder;
}

const pathOf = (...dirs: string[]) => dirs.join(delimiter);

describe('findOnPath', () => {
  it('finds the first executable of that name, skipping non-executable files and folders', () => {
    const plain = binFolder(['redis-server'], false);
    const withFolder = mkdtempSync(join(tmpdir(), 'hyvve-fake-bin-'));
    folders.push(withFolder);
    mkdirSync(join(withFolder, 'redis-server'));
    const real = binFolder(['redis-server']);
    expect(findOnPath('redis-server', pathOf(plain, withFolder, real))).toBe(
      join(real, 'redis-server'),
    );
    expect(findOnPath('redis-server', pathOf(plain))).toBeNull();
    expect(findOnPath('redis-server', undefined)).toBeNull();
  });
});

describe('checkPrerequisites', () => {
  it('reports nothing missing when both programs are on PATH', () => {
    const bin = binFolder(['redis-server', 'redis-cli', 'chromium']);
    const result = checkPrerequisites({ PATH: bin }, 'linux');
    expect(result.missing).toEqual([]);
    expect(result.redisServer).toBe(join(bin, 'redis-server'));
    expect(result.chromium).toBe(join(bin, 'chromium'));
  });

  it('names a missing Chromium with the Debian and Homebrew commands', () => {
    const bin = binFolder(['redis-server', 'redis-cli']);
    const result = checkPrerequisites({ PATH: bin }, 'linux');
    expect(result.missing.map((item) => item.name)).toEqual(['chromium']);
    expect(result.missing[0]?.debianPackage).toBe('chromium');
    const message = describeMissing(result.missing);
    expect(message).toContain('sudo apt-get install -y chromium');
    expect(message).toContain('brew install --cask chromium');
    expect(message).toContain('CHROMIUM_PATH');
  });

  it('names a missing redis-server with the Debian and Homebrew commands', () => {
    const bin = binFolder(['google-chrome', 'redis-cli']);
    const result = checkPrerequisites({ PATH: bin }, 'linux');
    expect(result.missing.map((item) => item.name)).toEqual(['redis-server']);
    expect(result.chromium).toBe(join(bin, 'google-chrome'));
    const message = describeMissing(result.missing);
    expect(message).toContain('sudo apt-get install -y redis-server');
    expect(message).toContain('brew install redis');
  });

  it('reports all three when PATH has none of them', () => {
    const empty = binFolder([]);
    expect(checkPrerequisites({ PATH: empty }, 'linux').missing.map((item) => item.name)).toEqual([
      'redis-server',
      'redis-cli',
      'chromium',
    ]);
  });

  it('names a missing redis-cli (the cluster tests need it) with its Debian package', () => {
    const bin = binFolder(['redis-server', 'chromium']);
    const result = checkPrerequisites({ PATH: bin }, 'linux');
    expect(result.missing.map((item) => item.debianPackage)).toEqual(['redis-tools']);
    expect(describeMissing(result.missing)).toContain('sudo apt-get install -y redis-tools');
  });
});

describe('resolveChromium', () => {
  it('prefers CHROMIUM_PATH over PATH', () => {
    const onPath = binFolder(['chromium']);
    const chrome = join(binFolder(['Google Chrome']), 'Google Chrome');
    expect(resolveChromium({ PATH: onPath, CHROMIUM_PATH: chrome }, 'darwin')).toEqual({
      path: chrome,
      source: 'CHROMIUM_PATH',
    });
  });

  it('accepts a bare program name in CHROMIUM_PATH, looked up on PATH', () => {
    const bin = binFolder(['my-chrome']);
    expect(resolveChromium({ PATH: bin, CHROMIUM_PATH: 'my-chrome' }, 'linux').path).toBe(
      join(bin, 'my-chrome'),
    );
  });

  it('refuses a CHROMIUM_PATH that is not an executable instead of falling back', () => {
    const onPath = binFolder(['chromium', 'redis-server', 'redis-cli']);
    const missingPath = join(onPath, 'no-such-browser');
    const result = checkPrerequisites({ PATH: onPath, CHROMIUM_PATH: missingPath }, 'linux');
    expect(result.chromium).toBeNull();
    expect(result.missing).toHaveLength(1);
    // Not a package to install: the setting is wrong.
    expect(result.missing[0]?.debianPackage).toBeNull();
    expect(describeMissing(result.missing)).toContain(
      `CHROMIUM_PATH=${missingPath} is not an executable file`,
    );
  });

  it('finds Chrome under a later name on PATH', () => {
    const bin = binFolder(['google-chrome-stable']);
    expect(resolveChromium({ PATH: bin }, 'linux')).toEqual({
      path: join(bin, 'google-chrome-stable'),
      source: 'PATH',
    });
  });
});
