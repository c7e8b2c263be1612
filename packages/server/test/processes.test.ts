// The entry points as users run them: the server process (`npm start` runs it) with a
// graceful SIGTERM, a configuration error, and `npm run token`.
import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { freePort } from '../../../test-support/redis-server.js';
import { secretKey } from '../src/auth/token.js';
import { verifyToken } from '../src/index.js';
import { waitFor } from './support/wait-for.js';

const root = fileURLToPath(new URL('../../../', import.meta.url));
const children: ChildProcess[] = [];
afterEach(() => {
  for (const child of children.splice(0)) if (child.exitCode === null) child.kill('SIGKILL');
});

function run(script: string, args: string[], env: Record<string, string>) {
  const child = spawn(process.execPath, ['--import', 'tsx', script, ...args], {
    cwd: root,
    env: { PATH: process.env.PATH ?? '', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  children.push(child);
  const output = { stdout: '', stderr: '' };
  child.stdout?.on('data', (chunk: Buffer) => {
    output.stdout += chunk.toString();
  });
  child.stderr?.on('data', (chunk: Buffer) => {
    output.stderr += chunk.toString();
  });
  const exited = once(child, 'exit').then(([code]) => code as number | null);
  return { child, output, exited };
}

describe('server process', () => {
  it('serves, logs its store and dev auth loudly, and exits 0 on SIGTERM', async () => {
    const port = await freePort();
    const { child, output, exited } = run('packages/server/src/main.ts', [], {
      PORT: String(port),
      LOG_LEVEL: 'info',
    });
    await waitFor(() => output.stdout.includes('dashboard state server listening'), {
      timeoutMs: 15_000,
      what: 'the server to listen',
    });
    expect(output.stdout).toContain('IN THIS PROCESS ONLY');
    expect(output.stdout).toContain('DEV AUTH IS ON');
    expect((await fetch(`http://127.0.0.1:${port}/healthz`)).status).toBe(200);
    child.kill('SIGTERM');
    expect(await exited).toBe(0);
    expect(output.stdout).toContain('shutting down');
    expect(output.stdout).toContain('dashboard state server closed');
  });

  it('exits 1 with a clear message on a configuration error', async () => {
    const { output, exited } = run('packages/server/src/main.ts', [], { NODE_ENV: 'production' });
    expect(await exited).toBe(1);
    expect(output.stderr).toContain('AUTH_SECRET is required when NODE_ENV=production');
  });

  it('refuses to start the dev sign-in in production, naming DEV_AUTH', async () => {
    const { output, exited } = run('packages/server/src/main.ts', [], {
      NODE_ENV: 'production',
      AUTH_SECRET: 'x'.repeat(40),
      DEV_AUTH: '1',
    });
    expect(await exited).toBe(1);
    expect(output.stderr).toContain('DEV_AUTH must not be on when NODE_ENV=production');
  });
});

describe('npm run token', () => {
  const secret = 'cli-secret-cli-secret-cli-secret-cli';

  it('prints a token for the user and workspace, signed with AUTH_SECRET', async () => {
    const { output, exited } = run(
      'packages/server/src/cli/token.ts',
      ['--user', 'alice', '--workspace', 'acme', '--expires', '120'],
      { AUTH_SECRET: secret },
    );
    expect(await exited).toBe(0);
    const identity = await verifyToken(output.stdout.trim(), secretKey(secret));
    expect(identity).toMatchObject({ userId: 'alice', workspaceId: 'acme' });
    expect((identity.expiresAt ?? 0) - Date.now()).toBeLessThanOrEqual(120_000);
  });

  it.each([
    [[], {}, 'AUTH_SECRET is not set'],
    [['--user', 'a:b', '--workspace', 'acme'], { AUTH_SECRET: secret }, '--user must be an id'],
    [
      ['--user', 'a', '--workspace', 'acme', '--expires', 'soon'],
      { AUTH_SECRET: secret },
      '--expires',
    ],
    [
      ['--user', 'a', '--workspace', 'acme', '--expires', '7200'],
      { AUTH_SECRET: secret, AUTH_MAX_TOKEN_TTL_SECONDS: '3600' },
      '--expires must be at most 3600 (AUTH_MAX_TOKEN_TTL_SECONDS)',
    ],
  ])('fails with a clear message for %j', async (args, env, message) => {
    const { output, exited } = run('packages/server/src/cli/token.ts', args, env);
    expect(await exited).toBe(1);
    expect(output.stderr).toContain(message);
    expect(output.stderr).toContain('usage: npm run token');
  });
});
