// Ours runs from its build, like production. Before a run, rebuild schema and server
// when a dist is missing or older than its sources, so the bench never measures stale code.
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';

export class BuildFailedError extends Error {
  constructor(
    readonly workspaces: string[],
    readonly output: string,
  ) {
    super(`npm run build failed for ${workspaces.join(', ')}:\n${output.slice(-3000)}`);
    this.name = 'BuildFailedError';
  }
}

function newestMtime(dir: string): number {
  let newest = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    newest = Math.max(newest, entry.isDirectory() ? newestMtime(path) : statSync(path).mtimeMs);
  }
  return newest;
}

function isStale(root: string, pkg: string): boolean {
  const dist = join(root, 'packages', pkg, 'dist');
  if (!existsSync(join(dist, 'index.js'))) return true;
  return newestMtime(join(root, 'packages', pkg, 'src')) > newestMtime(dist);
}

/** Returns the workspaces it rebuilt (empty when everything was fresh). */
export function ensureServerBuild(root: string, log: (message: string) => void): string[] {
  const stale = ['schema', 'server'].filter((pkg) => isStale(root, pkg));
  if (stale.length === 0) return [];
  // Schema first: the server compiles against its declarations.
  const workspaces = ['schema', 'server'].filter((pkg) =>
    pkg === 'schema' ? stale.includes('schema') : true,
  );
  log(`building ${workspaces.join(', ')} (dist missing or older than src)`);
  for (const pkg of workspaces) {
    const result = spawnSync('npm', ['run', 'build', '-w', `@hyvve/${pkg}`], {
      cwd: root,
      encoding: 'utf8',
    });
    if (result.status !== 0) {
      throw new BuildFailedError(workspaces, `${result.stdout}\n${result.stderr}`);
    }
  }
  return workspaces;
}
