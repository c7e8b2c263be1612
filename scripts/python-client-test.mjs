#!/usr/bin/env node
import { spawnSync } from 'node:child_process';
// `npm test`'s last step: the Python client's tests (clients/python) against the built
// server and real redis-servers. Sets up clients/python/.venv (git-ignored) with pip and
// installs the package with its test extras, again only when pyproject.toml changed. Where
// pip cannot get the packages (no Python package index reachable) and apt-get may be used,
// runs them with Debian's python3 packages instead. Exits with pytest's status.
import { createHash } from 'node:crypto';
import { existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { canInstallWithApt, findOnPath } from './lib/prerequisites.mjs';
import { repositoryRoot } from './setup.mjs';

const projectDir = join(repositoryRoot, 'clients', 'python');
const venvDir = join(projectDir, '.venv');
const venvPython = join(venvDir, 'bin', 'python');
const stampFile = join(venvDir, '.hyvve-installed');
const DEBIAN_PACKAGES = [
  'python3-venv',
  'python3-httpx',
  'python3-websockets',
  'python3-jwt',
  'python3-pytest',
  'python3-pytest-asyncio',
];

class PythonSetupError extends Error {}

function run(command, args, options = {}) {
  process.stdout.write(`python-client: ${command} ${args.join(' ')}\n`);
  return spawnSync(command, args, { cwd: projectDir, stdio: 'inherit', ...options });
}

function ok(result) {
  return !result.error && result.status === 0;
}

function aptInstall(packages) {
  if (!canInstallWithApt()) return false;
  if (!ok(run('apt-get', ['update', '-qq']))) return false;
  return ok(
    run('apt-get', ['install', '-y', '-qq', '--no-install-recommends', ...packages], {
      env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' },
    }),
  );
}

/** The venv's python with the package and its test extras installed, or null when pip cannot. */
function pipEnvironment(python) {
  const stamp = createHash('sha256')
    .update(readFileSync(join(projectDir, 'pyproject.toml')))
    .digest('hex');
  if (existsSync(stampFile) && readFileSync(stampFile, 'utf8') === stamp) return venvPython;
  if (!existsSync(venvPython)) {
    let created = ok(run(python, ['-m', 'venv', venvDir]));
    if (!created) {
      // Debian's python3 ships venv without ensurepip: python3-venv adds it.
      rmSync(venvDir, { recursive: true, force: true });
      created = aptInstall(['python3-venv']) && ok(run(python, ['-m', 'venv', venvDir]));
    }
    if (!created)
      throw new PythonSetupError(`${python} -m venv failed (Debian: apt-get install python3-venv)`);
  }
  // No retries: an index that cannot be reached fails fast instead of for minutes.
  const installed = run(venvPython, [
    '-m',
    'pip',
    'install',
    '--disable-pip-version-check',
    '--retries',
    '0',
    '--timeout',
    '15',
    '-e',
    '.[test]',
  ]);
  if (!ok(installed)) return null;
  writeFileSync(stampFile, stamp);
  return venvPython;
}

function debianEnvironment() {
  process.stdout.write("python-client: pip could not install the packages; using Debian's\n");
  if (!aptInstall(DEBIAN_PACKAGES)) {
    throw new PythonSetupError(
      `cannot install the test dependencies: pip failed and apt-get is not usable here (Debian: apt-get install ${DEBIAN_PACKAGES.join(' ')})`,
    );
  }
  // The tests import the package from src/ (pytest's pythonpath), so nothing else is installed.
  return '/usr/bin/python3';
}

try {
  const python = findOnPath('python3', process.env.PATH);
  if (!python)
    throw new PythonSetupError('python3 is not on PATH (Debian: apt-get install python3)');
  const testPython =
    process.env.HYVVE_PY_DEPS === 'debian'
      ? debianEnvironment()
      : (pipEnvironment(python) ?? debianEnvironment());
  const result = run(testPython, ['-m', 'pytest', '-q', '-p', 'no:cacheprovider']);
  if (result.error) throw new PythonSetupError(`pytest: ${result.error.message}`);
  process.exit(result.status ?? 1);
} catch (error) {
  if (!(error instanceof PythonSetupError)) throw error;
  process.stderr.write(`python-client: ${error.message}\n`);
  process.exit(1);
}
