// Load process that saves states as fast as it can for a bounded time: one worker keeps
// saving the hot user (many subscribers), the others rotate over the cold users (few
// subscribers each). At most one save per user is in flight, so every save is newer than
// the stored one and none is refused as a conflict. Saves alternate between instances.
import { Agent, request } from 'node:http';
import { runJobChild } from '../lib/child-side.js';
import { createStateTemplate, preciseNow } from '../lib/state-template.js';
import { emptyWriterResult, type WriterConfig, type WriterResult } from './writer-protocol.js';

const SAVE_PATH = '/api/dashboard/state';

runJobChild<WriterConfig, WriterResult>(async (config) => {
  const template = createStateTemplate(config.stateBytes);
  const agents = config.urls.map(
    () => new Agent({ keepAlive: true, maxSockets: config.concurrency }),
  );
  const targets = config.urls.map((url) => new URL(url));
  const result = emptyWriterResult();
  const cpuAtStart = process.cpuUsage();
  const started = Date.now();
  const deadline = started + config.durationMs;
  let issued = 0;
  let nextCold = 0;
  const coldInFlight = new Set<number>();

  const save = (token: string): Promise<void> => {
    const index = issued++;
    const target = targets[index % targets.length];
    const agent = agents[index % agents.length];
    if (!target || !agent) throw new RangeError('no instance to save to');
    const timestamp = preciseNow();
    const body = template.saveBody(timestamp);
    return new Promise((resolve) => {
      const req = request(
        {
          host: target.hostname,
          port: target.port,
          path: SAVE_PATH,
          method: 'POST',
          agent,
          headers: {
            authorization: `Bearer ${token}`,
            'content-type': 'application/json',
            'content-length': Buffer.byteLength(body),
          },
        },
        (response) => {
          const status = response.statusCode ?? 0;
          if (status < 200 || status >= 300) {
            result.non2xx[status] = (result.non2xx[status] ?? 0) + 1;
          } else {
            // One save per user in flight at a time: the last accepted one is the newest.
            result.lastSaved[token] = timestamp;
            const accepted = result.acceptedAt[token];
            if (accepted === undefined) result.acceptedAt[token] = [timestamp];
            else accepted.push(timestamp);
          }
          response.resume();
          response.once('end', () => resolve());
          response.once('error', () => resolve());
        },
      );
      req.once('error', (error) => {
        result.errors++;
        result.firstError ??= error.message;
        resolve();
      });
      req.end(body);
    });
  };

  const more = (): boolean => Date.now() < deadline && issued < config.maxSaves;

  const hotWorker = async (): Promise<void> => {
    while (more()) {
      await save(config.hotToken);
      result.hotSaves++;
    }
  };
  const coldWorker = async (): Promise<void> => {
    while (more()) {
      let user = nextCold;
      // Skip users with a save in flight (rare: only when the rotation laps a slow save).
      for (let tries = 0; coldInFlight.has(user) && tries < config.coldTokens.length; tries++) {
        user = (user + 1) % config.coldTokens.length;
      }
      nextCold = (user + 1) % config.coldTokens.length;
      const token = config.coldTokens[user];
      if (token === undefined || coldInFlight.has(user)) {
        await new Promise((resolve) => setTimeout(resolve, 1));
        continue;
      }
      coldInFlight.add(user);
      await save(token);
      coldInFlight.delete(user);
      result.coldSaves++;
    }
  };

  const workers = [hotWorker()];
  for (let i = 1; i < config.concurrency; i++) workers.push(coldWorker());
  await Promise.all(workers);
  result.durationMs = Date.now() - started;
  result.saves = result.hotSaves + result.coldSaves;
  const cpu = process.cpuUsage(cpuAtStart);
  result.cpuSeconds = (cpu.user + cpu.system) / 1e6;
  for (const agent of agents) agent.destroy();
  return result;
});
