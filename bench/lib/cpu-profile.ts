// Summarises a V8 .cpuprofile (from node --cpu-prof): the functions with the most
// self time, which is the evidence attached to a missed target.
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  children?: number[];
}

interface CpuProfile {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
  startTime: number;
  endTime: number;
}

export interface ProfileFrame {
  /** `function (file:line)` with the path shortened to the package or repo folder. */
  frame: string;
  selfMs: number;
  selfPercent: number;
}

function shortenUrl(url: string): string {
  const nodeModules = url.lastIndexOf('node_modules/');
  if (nodeModules >= 0) return url.slice(nodeModules + 'node_modules/'.length);
  const packages = url.indexOf('/packages/');
  if (packages >= 0) return url.slice(packages + 1);
  return url.replace(/^file:\/\//, '');
}

export function topSelfFrames(profile: CpuProfile, limit: number): ProfileFrame[] {
  const byId = new Map(profile.nodes.map((node) => [node.id, node]));
  const selfUs = new Map<string, number>();
  let totalUs = 0;
  profile.samples.forEach((id, i) => {
    const delta = profile.timeDeltas[i] ?? 0;
    const node = byId.get(id);
    // Idle is not work: percentages are of busy time.
    if (!node || node.callFrame.functionName === '(idle)') return;
    const { functionName, url, lineNumber } = node.callFrame;
    const key = `${functionName || '(anonymous)'} (${url ? `${shortenUrl(url)}:${lineNumber + 1}` : 'native'})`;
    selfUs.set(key, (selfUs.get(key) ?? 0) + delta);
    totalUs += delta;
  });
  return [...selfUs.entries()]
    .sort((a, b) => b[1] - a[1])
    .slice(0, limit)
    .map(([frame, us]) => ({
      frame,
      selfMs: Math.round(us / 100) / 10,
      selfPercent: totalUs === 0 ? 0 : Math.round((us / totalUs) * 1000) / 10,
    }));
}

/** Node names profiles CPU.<date>.<time>.<pid>.<thread>.<seq>.cpuprofile; thread 0 is the main thread. */
const MAIN_THREAD_PROFILE = /^CPU\.\d+\.\d+\.\d+\.0\.\d+\.cpuprofile$/;

/**
 * Reads the main-thread profiles under `dir` (one folder per process, as the bench
 * writes them) and returns the top frames of each, keyed by `folder/file`. Other
 * threads (e.g. the module loader's) are left out.
 */
export async function summarizeProfiles(
  dir: string,
  limit = 15,
): Promise<Record<string, ProfileFrame[]>> {
  const summaries: Record<string, ProfileFrame[]> = {};
  for (const entry of await readdir(dir, { withFileTypes: true })) {
    if (!entry.isDirectory()) continue;
    const folder = join(dir, entry.name);
    for (const file of (await readdir(folder)).filter((name) => MAIN_THREAD_PROFILE.test(name))) {
      const profile = JSON.parse(await readFile(join(folder, file), 'utf8')) as CpuProfile;
      summaries[`${entry.name}/${file}`] = topSelfFrames(profile, limit);
    }
  }
  return summaries;
}

/** Human-readable summary: per process, its top frames by self time. */
export function formatProfiles(summaries: Record<string, ProfileFrame[]>, limit = 12): string {
  return Object.entries(summaries)
    .map(([name, frames]) =>
      [
        name,
        ...frames
          .slice(0, limit)
          .map(
            (f) =>
              `  ${f.selfPercent.toFixed(1).padStart(5)}%  ${f.selfMs.toFixed(0).padStart(6)} ms  ${f.frame}`,
          ),
      ].join('\n'),
    )
    .join('\n');
}
