// One Redis command over a fresh TCP connection, in plain JavaScript: `npm start` uses it to
// see that its embedded Redis answers (PING) and to stop it cleanly (SHUTDOWN), before any
// dependency such as ioredis is installed. Only what those two need: AUTH, then one command,
// and the first reply line.
import { Socket } from 'node:net';

/** A reply Redis sent as an error (`-ERR ...`, `-LOADING ...`, `-NOAUTH ...`). */
export class RedisReplyError extends Error {
  constructor(reply) {
    super(reply);
    this.name = 'RedisReplyError';
  }
}

function encode(args) {
  let out = `*${args.length}\r\n`;
  for (const arg of args) out += `$${Buffer.byteLength(arg)}\r\n${arg}\r\n`;
  return out;
}

/**
 * Sends `AUTH password` (when given) and then `args` to 127.0.0.1:port. Resolves with the
 * command's first reply line (`+PONG`), or with null when Redis closes the connection
 * without a reply (what a successful SHUTDOWN does). Rejects with RedisReplyError on an
 * error reply, or with the socket error; never waits longer than timeoutMs.
 */
export function redisCommand({ port, password, args, timeoutMs = 2000 }) {
  return new Promise((resolve, reject) => {
    const socket = new Socket();
    const expected = password === undefined ? 1 : 2;
    let buffered = '';
    let replies = 0;
    let settled = false;
    const finish = (error, value) => {
      if (settled) return;
      settled = true;
      socket.destroy();
      if (error) reject(error);
      else resolve(value);
    };
    socket.setTimeout(timeoutMs, () =>
      finish(new Error(`no reply from Redis on port ${port} within ${timeoutMs} ms`)),
    );
    socket.once('connect', () => {
      const auth = password === undefined ? '' : encode(['AUTH', password]);
      socket.write(auth + encode(args));
    });
    socket.on('data', (chunk) => {
      buffered += chunk.toString('utf8');
      let end = buffered.indexOf('\r\n');
      while (end !== -1) {
        const line = buffered.slice(0, end);
        buffered = buffered.slice(end + 2);
        replies += 1;
        if (line.startsWith('-')) return finish(new RedisReplyError(line.slice(1)));
        if (replies === expected) return finish(null, line);
        end = buffered.indexOf('\r\n');
      }
    });
    socket.once('error', (error) => finish(error));
    socket.once('close', () => finish(null, null));
    socket.connect(port, '127.0.0.1');
  });
}
