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

/** EVALSHA sha numkeys keys... args..., its wire text built once (see the header). */
export class EvalshaCommand extends Command {
  private readonly wire: string;

  constructor(sha: string, keys: readonly string[], args: readonly WireArgument[]) {
    const all: WireArgument[] = [sha, String(keys.length), ...keys, ...args];
    // Keys stay real in `args` (ioredis and a Cluster find the slot from them); a spliced
    // argument is named by its size there (logs), never joined.
    super(
      'evalsha',
      all.map((argument) =>
        typeof argument === 'string' ? argument : `<${argument.parts.length} parts>`,
      ),
      { replyEncoding: 'utf8' },
    );
    this.wire = encodeCommand('evalsha', all);
  }

  override toWritable(_socket: object): string {
    return this.wire;
  }
}
