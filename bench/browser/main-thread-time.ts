// Main-thread time of a page as Chromium accounts it (CDP Performance.getMetrics):
// every task, whatever started it (update calls, debounce timers, channel messages).
import type { CDPSession, Page } from 'playwright-core';

export interface MainThreadTime {
  /** ms of tasks run on the page's main thread. */
  taskMs: number;
  /** ms of those spent running script. */
  scriptMs: number;
}

export interface MainThreadMeter {
  read(): Promise<MainThreadTime>;
  close(): Promise<void>;
}

export async function meterMainThread(page: Page): Promise<MainThreadMeter> {
  const session: CDPSession = await page.context().newCDPSession(page);
  await session.send('Performance.enable', { timeDomain: 'threadTicks' });
  return {
    read: async () => {
      const { metrics } = await session.send('Performance.getMetrics');
      const value = (name: string): number =>
        (metrics.find((metric) => metric.name === name)?.value ?? 0) * 1000;
      return { taskMs: value('TaskDuration'), scriptMs: value('ScriptDuration') };
    },
    close: () => session.detach(),
  };
}
