// The three packages as a team installs them: `npm pack` of the workspaces (whose
// `prepack` builds them), the tarballs installed into a fresh app beside React, Zustand
// and Fastify (from the npm cache the workspace was installed from), imported in plain
// Node with a `window` that throws when touched, run (the plugin in a Fastify app), and a
// consumer file type-checked against their published declarations with library checks
// on (`skipLibCheck: false`), under both `moduleResolution: bundler` and `NodeNext`.
import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ROOT } from './support/stack.js';

const run = promisify(execFile);
const PACKAGES = ['schema', 'server', 'client'] as const;
let dir: string;
let app: string;
let packed: Array<{ filename: string; files: Array<{ path: string }> }>;

/** The version the workspace has installed, so npm finds it in its cache. */
function installed(name: string): string {
  const manifest = JSON.parse(readFileSync(`${ROOT}node_modules/${name}/package.json`, 'utf8'));
  return `${name}@${manifest.version}`;
}

async function npm(args: string[], cwd: string): Promise<string> {
  const { stdout } = await run('npm', args, { cwd, maxBuffer: 16 * 1024 * 1024 });
  return stdout;
}

beforeAll(async () => {
  for (const name of PACKAGES) {
    if (!existsSync(`${ROOT}packages/${name}/dist/index.js`)) {
      throw new Error(`packages/${name}/dist is missing: run \`npm run build\` first`);
    }
  }
  dir = mkdtempSync(join(tmpdir(), 'hyvve-packaging-'));
  app = join(dir, 'app');
  packed = JSON.parse(
    await npm(
      [
        'pack',
        '--json',
        '--pack-destination',
        dir,
        ...PACKAGES.flatMap((name) => ['-w', `@hyvve/${name}`]),
      ],
      ROOT,
    ),
  );
  await run('mkdir', [app]);
  writeFileSync(
    join(app, 'package.json'),
    JSON.stringify({ name: 'consumer-app', private: true, type: 'module' }),
  );
  await npm(
    [
      'install',
      '--prefer-offline',
      '--no-audit',
      '--no-fund',
      '--ignore-scripts',
      ...packed.map((file) => join(dir, file.filename)),
      installed('react'),
      installed('zustand'),
      installed('fastify'),
      installed('@types/react'),
      installed('@types/node'),
    ],
    app,
  );
}, 180_000);

afterAll(() => {
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe('the packed packages installed in a fresh app', () => {
  it('are built by `npm pack` itself (prepack) and ship their declarations', () => {
    for (const name of PACKAGES) {
      const scripts = JSON.parse(readFileSync(`${ROOT}packages/${name}/package.json`, 'utf8'))
        .scripts as Record<string, string>;
      expect(scripts.prepack).toMatch(/npm run build$/);
    }
    for (const tarball of packed) {
      const files = tarball.files.map((file) => file.path);
      expect(files).toEqual(expect.arrayContaining(['dist/index.js', 'dist/index.d.ts']));
    }
  });

  it('leave @fastify/static out: an optional peer, only a server of the page needs it', () => {
    const manifest = JSON.parse(
      readFileSync(join(app, 'node_modules/@hyvve/server/package.json'), 'utf8'),
    );
    expect(manifest.dependencies).not.toHaveProperty('@fastify/static');
    expect(manifest.peerDependenciesMeta['@fastify/static']).toEqual({ optional: true });
    expect(existsSync(join(app, 'node_modules/@fastify/static'))).toBe(false);
  });

  it('use the app’s React and Zustand: the client lists them as peers only', () => {
    const client = JSON.parse(
      readFileSync(join(app, 'node_modules/@hyvve/client/package.json'), 'utf8'),
    );
    expect(Object.keys(client.peerDependencies).sort()).toEqual(['react', 'zustand']);
    expect(client.dependencies).not.toHaveProperty('react');
    expect(client.dependencies).not.toHaveProperty('zustand');
    expect(existsSync(join(app, 'node_modules/@hyvve/client/node_modules/react'))).toBe(false);
    expect(existsSync(join(app, 'node_modules/@hyvve/client/node_modules/zustand'))).toBe(false);
  });

  it('import in Node without touching window, exporting the public API only, and serve', async () => {
    writeFileSync(
      join(app, 'check.mjs'),
      `
Object.defineProperty(globalThis, 'window', {
  configurable: true,
  get() { throw new Error('window was touched at import'); },
});
const client = await import('@hyvve/client');
const react = await import('@hyvve/client/react');
const server = await import('@hyvve/server');
const schema = await import('@hyvve/schema');
delete globalThis.window;

const { default: Fastify } = await import('fastify');
const service = new server.StatePersistenceService({ store: server.createMemoryStateStore() });
const fastify = Fastify();
await fastify.register(server.dashboardStatePlugin, { service, authSecret: 's'.repeat(32) });
const token = await server.signToken({ userId: 'u', workspaceId: 'w', secret: 's'.repeat(32) });
const saved = await fastify.inject({
  method: 'POST',
  url: '/api/dashboard/state',
  headers: { authorization: 'Bearer ' + token },
  payload: { state: schema.createInitialDashboardState(Date.now()) },
});
const metrics = await fastify.dashboardStateMetrics.text();
await fastify.close();
await service.close();

// The plugin in a host app answers with startServer's headers and limits.
const HEADERS = ['content-security-policy', 'x-content-type-options', 'x-frame-options', 'referrer-policy'];
const pick = (headers) => Object.fromEntries(HEADERS.map((name) => [name, headers[name]]));
// One save per 100 s after a burst of two: the third is refused however slow the machine.
const rateLimit = { savesPerSecond: 0.01, burst: 2 };
const complete = await server.startServer({ logLevel: 'silent', authSecret: 's'.repeat(32), rateLimit });
const hostService = new server.StatePersistenceService({ store: server.createMemoryStateStore() });
const host = Fastify();
await host.register(server.dashboardStatePlugin, { service: hostService, authSecret: 's'.repeat(32), rateLimit });
const statuses = { startServer: [], plugin: [] };
const headers = {};
for (const [name, app] of [['startServer', complete.app], ['plugin', host]]) {
  for (let i = 0; i < 3; i++) {
    const answer = await app.inject({
      method: 'POST',
      url: '/api/dashboard/state',
      headers: { authorization: 'Bearer ' + token },
      payload: { state: schema.createInitialDashboardState(Date.now() + i) },
    });
    statuses[name].push(answer.statusCode);
    headers[name] = pick(answer.headers);
  }
}
await host.close();
await hostService.close();
await complete.close();

// @fastify/static is an optional peer: not installed here, so serving a page says so.
const page = await server
  .startServer({ logLevel: 'silent', authSecret: 's'.repeat(32), staticDir: '.' })
  .then(() => 'started', (error) => ({ name: error.name, option: error.option, message: error.message }));
const refused = Fastify();
refused.register(server.dashboardStatePlugin, { service: hostService, authSecret: undefined });
const optionError = await refused
  .ready()
  .then(() => 'ready', (error) => ({ name: error.name, option: error.option }));
console.log(JSON.stringify({
  client: Object.keys(client),
  react: Object.keys(react),
  server: Object.keys(server),
  saved: saved.statusCode,
  savesCounted: metrics.includes('hyvve_state_saves_total{transport="http",status="200"} 1'),
  statuses,
  headers,
  page,
  optionError,
}));
`,
    );
    const { stdout } = await run(process.execPath, ['check.mjs'], { cwd: app });
    const result = JSON.parse(stdout);
    expect(result.client).toEqual(
      expect.arrayContaining([
        'createStatePersistence',
        'createNoopPersistence',
        'createDashboardStore',
        'useDashboardState',
        'useStatePersistence',
        'useAlerts',
        'clearPersistedState',
        'ServerRejectedError',
        'PersistenceError',
      ]),
    );
    for (const internal of [
      'createDebounce',
      'createThrottle',
      'backoffDelay',
      'createServerSync',
      'createServerConnection',
      'readEnvelope',
      'openCrossTab',
      'browserStorage',
    ]) {
      expect(result.client).not.toContain(internal);
    }
    expect(result.react.sort()).toEqual(
      [
        'useActivity',
        'useAlerts',
        'useDashboardState',
        'useDashboardStateWithPersistence',
        'useErrors',
        'useIsLoading',
        'useMetrics',
        'useProjectStatus',
        'useStatePersistence',
      ].sort(),
    );
    expect(result.server).toEqual(
      expect.arrayContaining([
        'dashboardStatePlugin',
        'StatePersistenceService',
        'createStateStore',
        'createRedisStateStore',
        'createMemoryStateStore',
        'startServer',
        'ServerMetrics',
      ]),
    );
    expect(result.saved).toBe(200);
    expect(result.savesCounted).toBe(true);
    expect(result.statuses).toEqual({ startServer: [200, 200, 429], plugin: [200, 200, 429] });
    expect(result.headers.plugin).toEqual(result.headers.startServer);
    expect(result.headers.plugin['x-content-type-options']).toBe('nosniff');
    expect(result.page).toMatchObject({
      name: 'OptionError',
      option: 'staticDir',
      message: expect.stringContaining('npm install @fastify/static'),
    });
    expect(result.optionError).toEqual({ name: 'OptionError', option: 'authSecret' });
  });

  it.each([
    { module: 'NodeNext', moduleResolution: 'NodeNext' },
    { module: 'ESNext', moduleResolution: 'bundler' },
  ])(
    'type-check a consumer file against their declarations ($moduleResolution, library checks on)',
    async (resolution) => {
      const config = `tsconfig.${resolution.moduleResolution}.json`;
      writeFileSync(
        join(app, config),
        JSON.stringify({
          compilerOptions: {
            target: 'ES2022',
            ...resolution,
            jsx: 'react-jsx',
            strict: true,
            exactOptionalPropertyTypes: true,
            skipLibCheck: false,
            noEmit: true,
            lib: ['ES2023', 'DOM'],
            types: ['node'],
          },
          files: ['consumer.tsx'],
        }),
      );
      writeFileSync(
        join(app, 'consumer.tsx'),
        `
import {
  type ClearResult,
  createDashboardStore,
  createStatePersistence,
  type StatePersistenceOptions,
  ServerRejectedError,
} from '@hyvve/client';
import { useAlerts, useStatePersistence } from '@hyvve/client/react';
import { applyStatePatch, type DashboardState, diffStates } from '@hyvve/schema';
import Fastify from 'fastify';
import {
  createMemoryStateStore,
  dashboardStatePlugin,
  signToken,
  StatePersistenceService,
} from '@hyvve/server';

const options: StatePersistenceOptions = {
  debounceMs: 500,
  owner: { workspaceId: 'acme', userId: 'ada' },
  server: { url: 'https://api.example.com', getToken: async () => 'token' },
};
const store = createDashboardStore();
const persistence = createStatePersistence(store, options);
persistence.start();
store.getState().setActiveProject('apollo');
export const active: DashboardState['activeProject'] = store.getState().activeProject;
export const signedOut: Promise<ClearResult> = persistence.clear();
export const reset: Promise<ClearResult> = persistence.resetServerCopy();
export const patched: unknown = applyStatePatch({}, diffStates({}, { a: 1 }));

export function Dashboard() {
  const { syncStatus, forceSave, resetDashboard } = useStatePersistence({ debounceMs: 1000 });
  const alerts = useAlerts();
  return <button onClick={() => { forceSave(); void resetDashboard(); }}>{syncStatus} {alerts.length}</button>;
}

export async function serve(): Promise<string> {
  const service = new StatePersistenceService({ store: createMemoryStateStore() });
  const app = Fastify();
  await app.register(dashboardStatePlugin, { service, authSecret: process.env.AUTH_SECRET ?? '' });
  await app.listen({ port: 0 });
  return signToken({ userId: 'ada', workspaceId: 'acme', secret: 's'.repeat(32), expiresInSeconds: 3600 });
}

export function isRejected(error: unknown): boolean {
  return error instanceof ServerRejectedError;
}
`,
      );
      const tsc = `${ROOT}node_modules/typescript/bin/tsc`;
      const checked = await run(process.execPath, [tsc, '-p', config], { cwd: app }).then(
        () => '',
        (error: { stdout?: string }) => error.stdout ?? String(error),
      );
      expect(checked).toBe('');
    },
  );
});
