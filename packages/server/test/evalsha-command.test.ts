// The save path's EVALSHA, written as one RESP text with the message given in parts:
// byte lengths must be UTF-8 lengths (a wrong one desynchronises the connection), and a
// real Redis must receive every argument exactly, keys included.
import { createHash } from 'node:crypto';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestRedis, type TestRedis } from '../../../test-support/redis-server.js';
import { EvalshaCommand, encodeCommand } from '../src/store/redis/evalsha-command.js';

const ECHO = 'return {KEYS[1], KEYS[2], ARGV[1], ARGV[2], ARGV[3]}';
const ECHO_SHA = createHash('sha1').update(ECHO).digest('hex');

describe('encodeCommand', () => {
  it('writes a RESP array of bulk strings with UTF-8 byte lengths, parts joined in place', () => {
    expect(encodeCommand('echo', ['hé', { parts: ['a', '✓', ''] }, ''])).toBe(
      '*4\r\n$4\r\necho\r\n$3\r\nhé\r\n$4\r\na✓\r\n$0\r\n\r\n',
    );
  });
});

describe('EvalshaCommand against a real Redis', () => {
  let server: TestRedis;
  let redis: Redis;

  beforeAll(async () => {
    server = await startTestRedis();
    redis = new Redis(server.url);
    await redis.script('LOAD', ECHO);
  });
  afterAll(async () => {
    redis.disconnect();
    await server.close();
  });

  it('delivers keys, a spliced multi-byte message and plain arguments exactly', async () => {
    const state = `{"title":"Ünïcode ✓ 🚀","padding":"${'x'.repeat(20_000)}"}`;
    const parts = ['{"type":"state","origin":"tab é","state":', state, '}'];
    const command = new EvalshaCommand(ECHO_SHA, ['key:ü', 'channel:1'], [{ parts }, '42', '']);
    redis.sendCommand(command);
    expect(await command.promise).toEqual(['key:ü', 'channel:1', parts.join(''), '42', '']);
    // The connection is still in step: the next command gets its own reply.
    expect(await redis.ping()).toBe('PONG');
  });

  it('rejects with Redis NOSCRIPT for an unknown script, leaving the connection usable', async () => {
    const command = new EvalshaCommand('0'.repeat(40), ['k', 'c'], [{ parts: ['x'] }]);
    redis.sendCommand(command);
    await expect(command.promise).rejects.toThrow(/NOSCRIPT/);
    expect(await redis.ping()).toBe('PONG');
  });
});
