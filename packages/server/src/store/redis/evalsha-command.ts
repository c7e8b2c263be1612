// An EVALSHA whose RESP text is built in one pass for the save path. The message (10 KB+)
// is given as its parts (head, the state's text as received, tail), never joined on its
// own: ioredis would measure the joined message (flattening it), then join it again into
// the command text. Sent as a string, as the Redis floor's command is: Node encodes it
// into its own stack buffer on the socket write. A Buffer command instead (the previous
// form) allocated a fresh 10 KB ArrayBuffer per save, and the profile charged ours 18 µs
// of GC per save against the floor's 7 (bench/README.md). Replies, timeouts and errors
// stay ioredis's: this is a `Command`.
import { Command } from 'ioredis';

/** An argument sent as the concatenation of its parts (without joining them first). */
export interface SplicedArgument {
  readonly parts: readonly string[];
}

export type WireArgument = string | SplicedArgument;

const CRLF = '\r\n';

function byteLengthOf(argument: WireArgument): number {
  if (typeof argument === 'string') return Buffer.byteLength(argument);
  let length = 0;
  for (const part of argument.parts) length += Buffer.byteLength(part);
  return length;
}

/** `*N\r\n` then `$len\r\nbytes\r\n` per argument: a RESP2 array of bulk strings. */
export function encodeCommand(name: string, args: readonly WireArgument[]): string {
  let text = `*${args.length + 1}${CRLF}$${Buffer.byteLength(name)}${CRLF}${name}${CRLF}`;
  for (const argument of args) {
    text += `$${byteLengthOf(argument)}${CRLF}`;
    if (typeof argument === 'string') text += argument;
    else for (const part of argument.parts) text += part;
    text += CRLF;
  }
  return text;
}

/**
 * EVALSHA sha numkeys keys... args..., its wire text built once (see the header). With
 * `name` 'eval' and the script's source instead of its sha, the same as an EVAL: the
 * fallback after NOSCRIPT, which runs on the node the keys live on and caches the script
 * there (a SCRIPT LOAD through a cluster client reaches one node only).
 */
export class EvalshaCommand extends Command {
  private readonly wire: string;

  constructor(
    shaOrSource: string,
    keys: readonly string[],
    args: readonly WireArgument[],
    name: 'evalsha' | 'eval' = 'evalsha',
  ) {
    const all: WireArgument[] = [shaOrSource, String(keys.length), ...keys, ...args];
    // Keys stay real in `args`: ioredis reads them to route the command, and a Cluster
    // client sends it to the node owning the first key's slot. That is only right because
    // every key of one call carries the same hash tag (scope.ts): keys of two slots are
    // refused by Redis Cluster (CROSSSLOT), whatever the client does. A spliced argument is
    // named by its size there (logs), never joined.
    super(
      name,
      all.map((argument) =>
        typeof argument === 'string' ? argument : `<${argument.parts.length} parts>`,
      ),
      { replyEncoding: 'utf8' },
    );
    this.wire = encodeCommand(name, all);
  }

  override toWritable(_socket: object): string {
    return this.wire;
  }
}
