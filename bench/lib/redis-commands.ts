// Commands clients sent a Redis, from INFO commandstats. Redis counts a command a Lua
// script runs (redis.call) in commandstats too, so the commands our scripts call are left
// out: what remains is what the servers sent (EVALSHA/EVAL, PING, SUBSCRIBE, ...). None of
// the servers in the bench sends one of the left-out commands itself on the save path.
import { Redis } from 'ioredis';

/** Commands the save, read, delete and lease scripts run inside Redis (and our own INFO). */
const INSIDE_SCRIPTS = new Set([
  'time',
  'hmget',
  'hget',
  'hset',
  'pexpire',
  'getrange',
  'get',
  'set',
  'publish',
  'spublish',
  'del',
  'info',
]);

/** Calls of every command clients sent so far, by INFO commandstats. */
export async function clientCommandCalls(url: string): Promise<number> {
  const client = new Redis(url, { lazyConnect: true, maxRetriesPerRequest: 1 });
  try {
    await client.connect();
    const info = await client.info('commandstats');
    let calls = 0;
    for (const line of info.split('\n')) {
      const match = /^cmdstat_([a-z|_-]+):calls=(\d+)/.exec(line.trim());
      if (match?.[1] && match[2] && !INSIDE_SCRIPTS.has(match[1])) calls += Number(match[2]);
    }
    return calls;
  } finally {
    client.disconnect();
  }
}
