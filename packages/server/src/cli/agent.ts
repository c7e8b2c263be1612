// Agent simulator: writes realistic widget updates through the server API, the
// "agent -> Redis -> every tab" path. Each step loads the stored state, works out one
// change and sends only that change as a JSON Patch (PATCH), which the server applies to
// the state as stored at that moment: a browser edit made in between (an alert dismissed)
// is never overwritten. Only an empty store gets a full state (POST).
//
//   npm run agent -- --user ada --workspace acme [--interval 2000] [--count 100]
//                    [--url http://127.0.0.1:3000] [--token <jwt>] [--name insights-agent]
//
// Token: --token, else one signed with AUTH_SECRET, else the server's dev sign-in route.
import { setTimeout as sleep } from 'node:timers/promises';
import { parseArgs } from 'node:util';
import {
  createInitialDashboardState,
  type DashboardState,
  ID_PATTERN,
  JSON_PATCH_CONTENT_TYPE,
  type JsonPatchDocument,
  STATE_PATH,
  type StoredState,
} from '@hyvve/schema';
import { signToken } from '../auth/token.js';
import { applyAgentStep } from './agent-changes.js';
import { agentStepPatch } from './agent-patch.js';

const DEFAULTS = {
  url: 'http://127.0.0.1:3000',
  intervalMs: 2000,
  count: 100,
  name: 'insights-agent',
};
/** Bounds, so a typo cannot turn the simulator into a load generator. */
const MIN_INTERVAL_MS = 50;
const MAX_COUNT = 100_000;
/** Attempts per step (conflicts, rate limits, Redis down) before the step is given up. */
const MAX_ATTEMPTS = 5;
const REQUEST_TIMEOUT_MS = 10_000;
const MAX_BACKOFF_MS = 5_000;

/** Bad command line: printed with the usage, exit code 2. */
class UsageError extends Error {
  override readonly name = 'UsageError';
}

/** A request the agent cannot recover from by retrying (bad token, server refuses). */
class AgentRequestError extends Error {
  override readonly name = 'AgentRequestError';
  constructor(
    message: string,
    readonly status: number | null,
    readonly retryable: boolean,
  ) {
    super(message);
  }
}

interface AgentOptions {
  url: string;
  user: string;
  workspace: string;
  token: string | undefined;
  intervalMs: number;
  count: number;
  name: string;
}

const USAGE =
  'usage: npm run agent -- --user <id> --workspace <id> [--interval ms] [--count n] ' +
  '[--url http://127.0.0.1:3000] [--token jwt] [--name agent-name]';

function positiveInt(
  flag: string,
  raw: string | undefined,
  fallback: number,
  min: number,
  max: number,
): number {
  if (raw === undefined) return fallback;
  const value = Number(raw);
  if (!Number.isInteger(value) || value < min || value > max) {
    throw new UsageError(`--${flag} must be an integer from ${min} to ${max} (got "${raw}")`);
  }
  return value;
}

function parseAgentArgs(argv: string[]): AgentOptions {
  const { values } = parseArgs({
    args: argv,
    options: {
      user: { type: 'string' },
      workspace: { type: 'string' },
      interval: { type: 'string' },
      count: { type: 'string' },
      url: { type: 'string' },
      token: { type: 'string' },
      name: { type: 'string' },
    },
    strict: true,
  });
  const { user, workspace } = values;
  if (user === undefined || workspace === undefined) {
    throw new UsageError('--user and --workspace are required');
  }
  for (const [flag, id] of [
    ['user', user],
    ['workspace', workspace],
  ] as const) {
    if (!ID_PATTERN.test(id))
      throw new UsageError(`--${flag} must match ${ID_PATTERN} (got "${id}")`);
  }
  const url = (values.url ?? DEFAULTS.url).replace(/\/+$/, '');
  if (!/^https?:\/\//.test(url))
    throw new UsageError(`--url must start with http:// or https:// (got "${url}")`);
  return {
    url,
    user,
    workspace,
    token: values.token,
    intervalMs: positiveInt(
      'interval',
      values.interval,
      DEFAULTS.intervalMs,
      MIN_INTERVAL_MS,
      3_600_000,
    ),
    count: positiveInt('count', values.count, DEFAULTS.count, 1, MAX_COUNT),
    name: values.name ?? DEFAULTS.name,
  };
}

/** logfmt lines: readable in a terminal, parseable by log tools. */
function log(
  level: 'info' | 'warn' | 'error',
  msg: string,
  fields: Record<string, string | number> = {},
): void {
  const parts = [`level=${level}`, `msg=${JSON.stringify(msg)}`];
  for (const [key, value] of Object.entries(fields)) {
    parts.push(`${key}=${typeof value === 'number' ? value : JSON.stringify(value)}`);
  }
  (level === 'info' ? process.stdout : process.stderr).write(`${parts.join(' ')}\n`);
}

async function request(url: string, init: RequestInit): Promise<Response> {
  try {
    return await fetch(url, { ...init, signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS) });
  } catch (error) {
    // fetch says only "fetch failed"; the cause says why (ECONNREFUSED, timeout, ...).
    const cause = error instanceof Error && error.cause instanceof Error ? error.cause.message : '';
    const reason = error instanceof Error ? error.message : String(error);
    throw new AgentRequestError(
      `cannot reach ${url}: ${reason}${cause ? ` (${cause})` : ''}`,
      null,
      true,
    );
  }
}

async function errorBody(response: Response): Promise<Record<string, unknown>> {
  try {
    const body: unknown = await response.json();
    return typeof body === 'object' && body !== null ? (body as Record<string, unknown>) : {};
  } catch {
    return {};
  }
}

async function resolveToken(options: AgentOptions, env: NodeJS.ProcessEnv): Promise<string> {
  if (options.token) return options.token;
  const secret = env.AUTH_SECRET;
  if (secret) return signToken({ userId: options.user, workspaceId: options.workspace, secret });
  const response = await request(`${options.url}/api/dev/token`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ user: options.user, workspace: options.workspace }),
  });
  if (response.status === 404) {
    throw new AgentRequestError(
      'the server has no dev sign-in (production mode): pass --token (npm run token) or set AUTH_SECRET',
      404,
      false,
    );
  }
  const body = await errorBody(response);
  if (!response.ok || typeof body.token !== 'string') {
    throw new AgentRequestError(
      `dev sign-in failed (${response.status}): ${String(body.message ?? '')}`,
      response.status,
      false,
    );
  }
  return body.token;
}

type SaveOutcome =
  | { kind: 'saved'; revision: number }
  /** PATCH: nothing is stored any more (deleted or expired since it was read). */
  | { kind: 'gone' }
  | { kind: 'conflict'; current: StoredState }
  | { kind: 'stale' }
  | { kind: 'rate-limited'; retryAfterMs: number }
  | { kind: 'unavailable' };

class DashboardApi {
  constructor(
    private readonly baseUrl: string,
    private readonly token: string,
  ) {}

  private fail(action: string, status: number, body: Record<string, unknown>): AgentRequestError {
    if (status === 401) {
      return new AgentRequestError(
        `${action}: token rejected (401): ${String(body.message ?? '')}`,
        401,
        false,
      );
    }
    const hint = status === 503 ? ' (is Redis down?)' : '';
    return new AgentRequestError(
      `${action} failed (${status} ${String(body.error ?? '')}): ${String(body.message ?? '')}${hint}`,
      status,
      status === 503 || status === 429 || status >= 500,
    );
  }

  /** The stored state, or null when none is stored (never saved, deleted, expired). */
  async load(): Promise<StoredState | null> {
    const response = await request(`${this.baseUrl}${STATE_PATH}`, {
      headers: { authorization: `Bearer ${this.token}` },
    });
    if (response.status === 404) return null;
    if (!response.ok) throw this.fail('load', response.status, await errorBody(response));
    return (await response.json()) as StoredState;
  }

  async save(state: DashboardState, revision: number | null): Promise<SaveOutcome> {
    const headers: Record<string, string> = {
      authorization: `Bearer ${this.token}`,
      'content-type': 'application/json',
    };
    if (revision !== null) headers['if-match'] = `"${revision}"`;
    const response = await request(`${this.baseUrl}${STATE_PATH}`, {
      method: 'POST',
      headers,
      body: JSON.stringify({ state }),
    });
    return this.outcome('save', response);
  }

  /** Applies `patch` to the stored state, whatever was saved since it was read. */
  async patch(patch: JsonPatchDocument): Promise<SaveOutcome> {
    const response = await request(`${this.baseUrl}${STATE_PATH}`, {
      method: 'PATCH',
      headers: {
        authorization: `Bearer ${this.token}`,
        'content-type': JSON_PATCH_CONTENT_TYPE,
      },
      body: JSON.stringify(patch),
    });
    return this.outcome('patch', response);
  }

  private async outcome(action: string, response: Response): Promise<SaveOutcome> {
    const body = await errorBody(response);
    switch (response.status) {
      case 200:
        return { kind: 'saved', revision: Number(body.revision) };
      case 404:
        return { kind: 'gone' };
      case 409:
        // Without the stored state (the server gave up on a busy state): reload it.
        return body.current
          ? { kind: 'conflict', current: body.current as StoredState }
          : { kind: 'stale' };
      case 412:
        return { kind: 'stale' };
      case 429: {
        const header = Number(response.headers.get('retry-after'));
        const retryAfterMs =
          typeof body.retryAfterMs === 'number'
            ? body.retryAfterMs
            : Number.isFinite(header)
              ? header * 1000
              : 1000;
        return { kind: 'rate-limited', retryAfterMs };
      }
      case 503:
        return { kind: 'unavailable' };
      default:
        throw this.fail(action, response.status, body);
    }
  }
}

function backoff(attempt: number): number {
  return Math.min(MAX_BACKOFF_MS, 250 * 2 ** attempt);
}

/** One step with bounded retries. Returns whether it was saved; throws on what retrying cannot fix. */
async function runStep(
  api: DashboardApi,
  options: AgentOptions,
  step: number,
  signal: AbortSignal,
): Promise<boolean> {
  let stored: StoredState | null = null;
  let needsLoad = true;
  for (let attempt = 0; attempt < MAX_ATTEMPTS && !signal.aborted; attempt++) {
    try {
      if (needsLoad) {
        stored = await api.load();
        needsLoad = false;
      }
      const base = stored?.state ?? createInitialDashboardState(Date.now());
      const change = applyAgentStep(base, { step, now: Date.now(), agent: options.name });
      // Only what this step changed, applied by the server to what is stored then.
      const outcome: SaveOutcome = stored
        ? await api.patch(agentStepPatch(stored.state, change.state))
        : await api.save(change.state, null);
      switch (outcome.kind) {
        case 'saved':
          log('info', 'saved', {
            step: `${step + 1}/${options.count}`,
            revision: outcome.revision,
            change: change.summary,
          });
          return true;
        case 'gone':
          log('warn', 'the state was deleted since it was read (404): reloading', {
            step: step + 1,
          });
          needsLoad = true;
          break;
        case 'conflict':
          log('warn', 'the state moved under the change (409): rebuilding it on the stored one', {
            revision: outcome.current.revision,
          });
          stored = outcome.current;
          break;
        case 'stale':
          log('warn', 'the state changed since it was read (412): reloading and retrying', {
            step: step + 1,
          });
          needsLoad = true;
          break;
        case 'rate-limited':
          log('warn', 'saving too fast (429): waiting before retrying', {
            retryAfterMs: outcome.retryAfterMs,
          });
          await sleep(Math.min(outcome.retryAfterMs, MAX_BACKOFF_MS), undefined, { signal });
          break;
        case 'unavailable':
          log('warn', 'the server cannot reach its store (503): is Redis down? retrying', {
            inMs: backoff(attempt),
          });
          needsLoad = true;
          await sleep(backoff(attempt), undefined, { signal });
          break;
      }
    } catch (error) {
      if (signal.aborted) return false;
      if (!(error instanceof AgentRequestError) || !error.retryable) throw error;
      needsLoad = true;
      if (attempt === MAX_ATTEMPTS - 1) {
        log('warn', error.message, { attempt: attempt + 1 });
        break;
      }
      log('warn', error.message, { attempt: attempt + 1, retryInMs: backoff(attempt) });
      await sleep(backoff(attempt), undefined, { signal }).catch(() => undefined);
    }
  }
  if (!signal.aborted)
    log('error', 'gave up on this step', { step: step + 1, attempts: MAX_ATTEMPTS });
  return false;
}

async function main(): Promise<number> {
  let options: AgentOptions;
  try {
    options = parseAgentArgs(process.argv.slice(2));
  } catch (error) {
    process.stderr.write(`${error instanceof Error ? error.message : String(error)}\n${USAGE}\n`);
    return 2;
  }
  const controller = new AbortController();
  const stop = (): void => {
    if (!controller.signal.aborted) log('info', 'stopping (signal received)');
    controller.abort();
  };
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);

  const token = await resolveToken(options, process.env);
  const api = new DashboardApi(options.url, token);
  log('info', 'agent started', {
    url: options.url,
    user: options.user,
    workspace: options.workspace,
    count: options.count,
    intervalMs: options.intervalMs,
  });
  let saved = 0;
  let failed = 0;
  for (let step = 0; step < options.count && !controller.signal.aborted; step++) {
    if (await runStep(api, options, step, controller.signal)) saved++;
    else if (!controller.signal.aborted) failed++;
    if (step < options.count - 1) {
      await sleep(options.intervalMs, undefined, { signal: controller.signal }).catch(
        () => undefined,
      );
    }
  }
  log('info', 'agent finished', { saved, failed });
  return failed === 0 ? 0 : 1;
}

main().then(
  (code) => {
    process.exitCode = code;
  },
  (error: unknown) => {
    log('error', error instanceof Error ? error.message : String(error));
    process.exitCode = 1;
  },
);
