// CPU profile of a page's main thread through CDP, written where `--profile` puts
// the servers' profiles, so one summary shows where the browser's time went too.
import { mkdir, writeFile } from 'node:fs/promises';
import type { Page } from 'playwright-core';

export interface PageProfiler {
  /** Stops profiling and writes the profile into `dir`. */
  stop(dir: string, sequence: number): Promise<void>;
}

export async function startPageProfiler(page: Page): Promise<PageProfiler> {
  const session = await page.context().newCDPSession(page);
  await session.send('Profiler.enable');
  await session.send('Profiler.setSamplingInterval', { interval: 100 });
  await session.send('Profiler.start');
  return {
    stop: async (dir, sequence) => {
      const { profile } = await session.send('Profiler.stop');
      await session.detach();
      await mkdir(dir, { recursive: true });
      // Named like Node's own main-thread profiles (thread 0), which the summary reads.
      const name = `CPU.0.0.0.0.${String(sequence).padStart(3, '0')}.cpuprofile`;
      await writeFile(`${dir}/${name}`, JSON.stringify(profile));
    },
  };
}
