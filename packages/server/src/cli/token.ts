// `npm run token -- --user <id> --workspace <id> [--expires <seconds>]`: prints a token
// signed with AUTH_SECRET, for curl, scripts and agents.
import { parseArgs } from 'node:util';
import { ID_PATTERN } from '@hyvve/schema';
import { signToken } from '../auth/token.js';
import { isValidId } from '../scope.js';

const USAGE = 'usage: npm run token -- --user <id> --workspace <id> [--expires <seconds>]';

function fail(message: string): never {
  process.stderr.write(`${message}\n${USAGE}\n`);
  process.exit(1);
}

async function main(): Promise<void> {
  let values: { user?: string; workspace?: string; expires?: string; help?: boolean };
  try {
    ({ values } = parseArgs({
      options: {
        user: { type: 'string', short: 'u' },
        workspace: { type: 'string', short: 'w' },
        expires: { type: 'string', short: 'e' },
        help: { type: 'boolean', short: 'h' },
      },
    }));
  } catch (error) {
    fail(error instanceof Error ? error.message : String(error));
  }
  if (values.help) {
    process.stdout.write(`${USAGE}\n`);
    return;
  }
  const secret = process.env.AUTH_SECRET?.trim();
  if (!secret) {
    fail(
      'AUTH_SECRET is not set: export the same AUTH_SECRET the server runs with ' +
        '(without one the server uses a random secret and offers POST /api/dev/token instead)',
    );
  }
  const { user, workspace } = values;
  if (!isValidId(user)) fail(`--user must be an id matching ${ID_PATTERN.source}`);
  if (!isValidId(workspace)) fail(`--workspace must be an id matching ${ID_PATTERN.source}`);
  let expiresInSeconds: number | undefined;
  if (values.expires !== undefined) {
    expiresInSeconds = Number(values.expires);
    if (!Number.isInteger(expiresInSeconds) || expiresInSeconds <= 0) {
      fail('--expires must be a positive whole number of seconds');
    }
    // A longer-lived token would only be refused by the server (401).
    const max = Number(process.env.AUTH_MAX_TOKEN_TTL_SECONDS?.trim() || 86_400);
    if (expiresInSeconds > max) {
      fail(`--expires must be at most ${max} (AUTH_MAX_TOKEN_TTL_SECONDS)`);
    }
  }
  const token = await signToken({
    userId: user,
    workspaceId: workspace,
    secret,
    ...(expiresInSeconds === undefined ? {} : { expiresInSeconds }),
  });
  process.stdout.write(`${token}\n`);
}

main().catch((error: unknown) => {
  fail(error instanceof Error ? error.message : String(error));
});
