// The save path without copies: a complete state is checked in place (Zod only for
// defaults, stripped keys and errors) and its received text is stored as is only when
// it is exactly what serialising the state would write. Each shortcut is checked against
// what the full path stores.
import { type DashboardState, MAX_STATE_SIZE_BYTES } from '@hyvve/schema';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { makeState } from '../../../test-support/fixtures.js';
import {
  InvalidStateError,
  MemoryStateStore,
  type RunningServer,
  StatePersistenceService,
  StateTooLargeError,
  stateScope,
} from '../src/index.js';
import type { SaveRequest } from '../src/store/state-store.js';
import { api, testServer, tokenFor } from './support/servers.js';

const owner = { workspaceId: 'acme', userId: 'fast-path' };
const T0 = 1_700_000_000_000;

function setup(maxStateBytes = MAX_STATE_SIZE_BYTES) {
  const store = new MemoryStateStore();
  const service = new StatePersistenceService({ store, maxStateBytes });
  const saves: SaveRequest[] = [];
  const save = store.save.bind(store);
  vi.spyOn(store, 'save').mockImplementation((scope, request) => {
    saves.push(request);
    return save(scope, request);
  });
  return { service, saves };
}

/** A save body as a client sends it, and the state it parses to. */
function received(state: unknown, text = JSON.stringify(state)) {
  const body = `{"state":${text}}`;
  const parsed = (JSON.parse(body) as { state: unknown }).state;
  return { body, parsed, source: { text: body, start: 9 } };
}

describe('save: checked in place, stored as received', () => {
  it('stores the received text as is when it is the canonical JSON of a complete state', async () => {
    const { service, saves } = setup();
    const text = JSON.stringify(makeState({ timestamp: T0, targetBytes: 4096 }));
    const { parsed, source } = received(null, text);
    await service.save(owner, parsed, { source });
    expect(saves[0]?.stateJson).toBe(text);
  });

  it('serialises the state when the received text spells it another way', async () => {
    const { service, saves } = setup();
    const state = makeState({ timestamp: T0 });
    const spaced = JSON.stringify(state, null, 2);
    const { parsed, source } = received(null, spaced);
    await service.save(owner, parsed, { source });
    expect(saves[0]?.stateJson).toBe(JSON.stringify(state));
  });

  it('stores the last value of a duplicated key, never the received text', async () => {
    const { service, saves } = setup();
    const text = JSON.stringify(makeState({ timestamp: T0 }));
    const duplicated = text.replace(
      '"activeProject":"proj-apollo"',
      '"activeProject":"a","activeProject":"b"',
    );
    expect(duplicated).not.toBe(text);
    const { parsed, source } = received(null, duplicated);
    await service.save(owner, parsed, { source });
    const stored = saves[0]?.stateJson ?? '';
    expect(stored).not.toContain('"activeProject":"a"');
    expect((JSON.parse(stored) as DashboardState).activeProject).toBe('b');
  });

  it('applies defaults and strips unknown keys through the schema', async () => {
    const { service, saves } = setup();
    const state = makeState({ timestamp: T0, alerts: 1 }) as unknown as Record<string, unknown>;
    const widgets = state.widgets as { alerts: Record<string, unknown>[] };
    delete widgets.alerts[0]?.dismissed;
    state.extra = 'dropped';
    const { parsed, source } = received(state);
    await service.save(owner, parsed, { source });
    const stored = JSON.parse(saves[0]?.stateJson ?? '{}') as Record<string, unknown>;
    expect(stored.extra).toBeUndefined();
    expect((stored as unknown as DashboardState).widgets.alerts[0]?.dismissed).toBe(false);
  });

  it('never stores transient parts, even from a canonical text', async () => {
    const { service, saves } = setup();
    const state = makeState({ timestamp: T0 });
    state.loading = { isLoading: true, loadingAgents: ['agent-1'], startedAt: 5 };
    state.errors = { 'agent-1': 'boom' };
    const { parsed, source } = received(state);
    await service.save(owner, parsed, { source });
    const stored = JSON.parse(saves[0]?.stateJson ?? '{}') as DashboardState;
    expect(stored.loading).toEqual({ isLoading: false, loadingAgents: [] });
    expect(stored.errors).toEqual({});
  });

  it('still names the failing path of an invalid state', async () => {
    const { service, saves } = setup();
    const state = makeState({ timestamp: T0 });
    (state.widgets.alerts[0] as { type: string }).type = 'fatal';
    const { parsed, source } = received(state);
    const failure = service.save(owner, parsed, { source });
    await expect(failure).rejects.toBeInstanceOf(InvalidStateError);
    await expect(failure).rejects.toMatchObject({ path: 'widgets.alerts.0.type' });
    expect(saves).toHaveLength(0);
  });

  it('measures UTF-8 bytes when a text could be over the limit, and only then', async () => {
    const state = makeState({ timestamp: T0 });
    state.activeProject = '€'.repeat(400);
    const chars = JSON.stringify(state).length;
    const bytes = Buffer.byteLength(JSON.stringify(state));
    // Under the limit in characters, over it in bytes.
    const tight = setup(chars + 10);
    const failure = tight.service.save(owner, state);
    await expect(failure).rejects.toBeInstanceOf(StateTooLargeError);
    await expect(failure).rejects.toMatchObject({ size: bytes });
    const roomy = setup(bytes);
    await expect(roomy.service.save(owner, state)).resolves.toMatchObject({ revision: 1 });
  });

  it('stores the same text for the same state whichever path it takes', async () => {
    const { service, saves } = setup();
    const state = makeState({ timestamp: T0 });
    const { parsed, source } = received(state);
    await service.save(stateScope('acme', 'a'), parsed, { source });
    await service.save(stateScope('acme', 'b'), structuredClone(state));
    expect(saves[0]?.stateJson).toBe(saves[1]?.stateJson);
  });
});

describe('HTTP save: the body text behind the fast path', () => {
  let server: RunningServer;
  beforeAll(async () => {
    server = await testServer();
  });
  afterAll(() => undefined);

  it('answers GET with exactly the state text a canonical save sent', async () => {
    const token = await tokenFor('fast-http-1');
    const text = JSON.stringify(makeState({ timestamp: T0 }));
    const saved = await api(server, 'POST', '/api/dashboard/state', {
      token,
      rawBody: `{"state":${text},"origin":"tab-1"}`,
    });
    expect(saved.status).toBe(200);
    const loaded = await api(server, 'GET', '/api/dashboard/state', { token });
    expect(loaded.text.startsWith(`{"state":${text},`)).toBe(true);
  });

  it('saves bodies in any JSON spelling, with the origin first or whitespace', async () => {
    const token = await tokenFor('fast-http-2');
    const state = makeState({ timestamp: T0 });
    const bodies = [
      `{"origin":"tab-1","state":${JSON.stringify(state)}}`,
      `{ "state": ${JSON.stringify({ ...state, timestamp: T0 + 1 }, null, 1)} }`,
    ];
    for (const rawBody of bodies) {
      const res = await api(server, 'POST', '/api/dashboard/state', { token, rawBody });
      expect(res.status).toBe(200);
    }
    const loaded = await api(server, 'GET', '/api/dashboard/state', { token });
    expect((loaded.body as { state: DashboardState }).state).toEqual({
      ...state,
      timestamp: T0 + 1,
    });
  });

  it('still refuses prototype poisoning and empty bodies with 400', async () => {
    const token = await tokenFor('fast-http-3');
    const text = JSON.stringify(makeState({ timestamp: T0 }));
    const poisoned = await api(server, 'POST', '/api/dashboard/state', {
      token,
      rawBody: `{"state":${text},"__proto__":{"x":1}}`,
    });
    expect(poisoned.status).toBe(400);
    const empty = await api(server, 'POST', '/api/dashboard/state', { token, rawBody: '' });
    expect(empty.status).toBe(400);
  });
});
