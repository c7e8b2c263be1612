// PATCH /api/dashboard/state and the socket's `patch-save` (issue 12): a patch is applied
// to the stored state atomically against concurrent saves, answered and published like a
// save, so an agent updating one widget never clobbers a user's other changes. Two server
// instances on one real Redis.
import {
  type DashboardState,
  JSON_PATCH_CONTENT_TYPE,
  MERGE_PATCH_CONTENT_TYPE,
  type StoredState,
} from '@hyvve/schema';
import { beforeAll, describe, expect, it } from 'vitest';
import { makeState } from '../../../test-support/fixtures.js';
import type { RunningServer } from '../src/index.js';
import { api, field, tokenFor, wsUrl } from './support/servers.js';
import { TestSocket } from './support/test-socket.js';
import { setUpTwoInstances } from './support/two-instances.js';

const PATH = '/api/dashboard/state';
const instances = setUpTwoInstances('patch');
const { sockets } = instances;
let a: RunningServer;
let b: RunningServer;
beforeAll(() => {
  ({ a, b } = instances);
});

let n = 0;
const newUser = () => `patch-user-${++n}`;

/** A user with a stored state (revision 1) and their token. */
async function storedUser(state: DashboardState = makeState({ timestamp: Date.now() - 60_000 })) {
  const token = await tokenFor(newUser());
  const saved = await api(a, 'POST', PATH, { token, body: { state } });
  expect(saved.status).toBe(200);
  return { token, state };
}

function patch(
  server: RunningServer,
  token: string,
  body: unknown,
  contentType: string = MERGE_PATCH_CONTENT_TYPE,
  headers: Record<string, string> = {},
) {
  return api(server, 'PATCH', PATH, {
    token,
    rawBody: JSON.stringify(body),
    headers: { 'content-type': contentType, ...headers },
  });
}

async function stored(token: string): Promise<StoredState> {
  const res = await api(a, 'GET', PATH, { token });
  expect(res.status).toBe(200);
  return res.body as StoredState;
}

describe('PATCH /api/dashboard/state', () => {
  it('applies a merge patch, keeps everything else, and answers like a save', async () => {
    const { token, state } = await storedUser();
    const res = await patch(a, token, {
      activeProject: 'proj-zeus',
      widgets: { metrics: { title: 'KPIs' } },
    });
    expect(res.status, res.text).toBe(200);
    const epoch = field(res.body, 'epoch');
    expect(res.body).toEqual({
      revision: 2,
      savedAt: expect.any(Number),
      epoch: expect.any(String),
    });
    expect(res.headers.get('etag')).toBe(`"${String(epoch)}.2"`);
    const after = await stored(token);
    expect(after.revision).toBe(2);
    expect(after.state.activeProject).toBe('proj-zeus');
    expect(after.state.widgets.metrics?.title).toBe('KPIs');
    expect(after.state.widgets.metrics?.metrics).toEqual(state.widgets.metrics?.metrics);
    expect(after.state.widgets.alerts).toEqual(state.widgets.alerts);
    expect(after.state.timestamp).toBeGreaterThan(state.timestamp);
  });

  it('applies to the newest save of a user who never patched, and to each save after a patch', async () => {
    // Only users who patched lately have their saves remembered on the instance: the first
    // patch reads the store, the later ones start from the save the instance remembered.
    const { token, state } = await storedUser();
    let timestamp = state.timestamp;
    const saveOn = async (server: RunningServer, summary: string) => {
      timestamp = Math.max(timestamp + 1, Date.now());
      const next = makeState({ timestamp });
      const status = next.widgets.projectStatus;
      if (status) status.summary = summary;
      expect((await api(server, 'POST', PATH, { token, body: { state: next } })).status).toBe(200);
    };
    for (let i = 1; i <= 3; i++) await saveOn(a, `save ${i}`);
    const first = await patch(a, token, { activeProject: 'proj-one' });
    expect(first.status, first.text).toBe(200);
    expect(first.body).toMatchObject({ revision: 5 });
    let after = await stored(token);
    expect(after.state.activeProject).toBe('proj-one');
    expect(after.state.widgets.projectStatus?.summary).toBe('save 3');
    timestamp = after.state.timestamp;
    // Saved on this instance, then on the other one, each followed by a patch here.
    for (const [server, summary, project] of [
      [a, 'save 4', 'proj-two'],
      [b, 'save 5', 'proj-three'],
    ] as const) {
      await saveOn(server, summary);
      const res = await patch(a, token, { activeProject: project });
      expect(res.status, res.text).toBe(200);
      after = await stored(token);
      expect(after.state.activeProject).toBe(project);
      expect(after.state.widgets.projectStatus?.summary).toBe(summary);
      timestamp = after.state.timestamp;
    }
    expect(after.revision).toBe(9);
  });

  it('applies a JSON Patch with every RFC 6902 operation', async () => {
    const { token } = await storedUser();
    const res = await patch(
      b,
      token,
      [
        { op: 'test', path: '/widgets/alerts/0/id', value: 'alert-0' },
        { op: 'replace', path: '/widgets/alerts/0/dismissed', value: true },
        { op: 'copy', from: '/widgets/alerts/1/title', path: '/widgets/alerts/2/title' },
        { op: 'move', from: '/widgets/metrics/period', path: '/widgets/metrics/title' },
        { op: 'remove', path: '/widgets/activity/activities/0' },
        { op: 'add', path: '/activeProject', value: 'proj-json' },
      ],
      `${JSON_PATCH_CONTENT_TYPE}; charset=utf-8`,
    );
    expect(res.status).toBe(200);
    const after = (await stored(token)).state;
    expect(after.widgets.alerts[0]?.dismissed).toBe(true);
    expect(after.widgets.alerts[2]?.title).toBe('Alert 1');
    expect(after.widgets.metrics?.title).toBe('last 7 days');
    expect(after.widgets.metrics?.period).toBeUndefined();
    expect(after.widgets.activity?.activities[0]?.id).toBe('activity-1');
    expect(after.activeProject).toBe('proj-json');
  });

  it('publishes the patched state to subscribers on every instance', async () => {
    const { token } = await storedUser();
    const { socket } = await TestSocket.ready(wsUrl(b), token);
    sockets.push(socket);
    expect((await patch(a, token, { activeProject: 'published' })).status).toBe(200);
    const message = await socket.next('state', (m) => m.revision === 2);
    expect((message.state as DashboardState).activeProject).toBe('published');
    expect(message.origin).toBe('http');
  });

  it('answers 404 when nothing is stored (a patch needs a state to apply to)', async () => {
    const res = await patch(a, await tokenFor(newUser()), { activeProject: 'x' });
    expect(res.status).toBe(404);
    expect(field(res.body, 'error')).toBe('not_found');
  });

  it('answers 409 with the stored state when a JSON Patch does not apply to it', async () => {
    const { token, state } = await storedUser();
    const failedTest = await patch(
      a,
      token,
      [{ op: 'test', path: '/activeProject', value: 'someone-else' }],
      JSON_PATCH_CONTENT_TYPE,
    );
    expect(failedTest.status).toBe(409);
    expect(field(failedTest.body, 'error')).toBe('conflict');
    expect(String(field(failedTest.body, 'message'))).toContain('patch operation 0 (test');
    expect((field(failedTest.body, 'current') as StoredState).state).toEqual(state);
    const missing = await patch(
      a,
      token,
      [{ op: 'replace', path: '/widgets/nothing/here', value: 1 }],
      JSON_PATCH_CONTENT_TYPE,
    );
    expect(missing.status).toBe(409);
    expect((await stored(token)).revision).toBe(1);
  });

  it('answers 400 for a malformed patch or a result that fails the schema, naming it', async () => {
    const { token } = await storedUser();
    const notOps = await patch(a, token, [{ op: 'jump', path: '/x' }], JSON_PATCH_CONTENT_TYPE);
    expect(notOps.status).toBe(400);
    expect(field(notOps.body, 'error')).toBe('invalid_request');
    expect(String(field(notOps.body, 'message'))).toContain('JSON Patch');
    const notObject = await patch(a, token, ['not', 'an', 'object']);
    expect(notObject.status).toBe(400);
    const invalid = await patch(a, token, { widgets: { alerts: [{ id: 'a', type: 'nope' }] } });
    expect(invalid.status).toBe(400);
    expect(field(invalid.body, 'error')).toBe('invalid_state');
    expect(field(invalid.body, 'path')).toMatch(/^widgets\.alerts\.0\./);
    // In a merge patch null removes a key (RFC 7386): a widget is cleared with JSON Patch.
    const removed = await patch(a, token, { widgets: { projectStatus: null } });
    expect(field(removed.body, 'path')).toBe('widgets.projectStatus');
    const badJson = await api(a, 'PATCH', PATH, {
      token,
      rawBody: '{"activeProject":',
      headers: { 'content-type': MERGE_PATCH_CONTENT_TYPE },
    });
    expect(badJson.status).toBe(400);
    expect((await stored(token)).revision).toBe(1);
  });

  it('answers 415 for a body that is not a merge patch or a JSON Patch', async () => {
    const { token } = await storedUser();
    for (const type of ['application/json', 'text/plain', 'application/x-unknown']) {
      const res = await patch(a, token, { activeProject: 'x' }, type);
      expect(res.status, type).toBe(415);
      expect(field(res.body, 'error')).toBe('unsupported_media_type');
    }
  });

  it('answers 412 when If-Match is stale and applies when it is current', async () => {
    const { token } = await storedUser();
    const stale = await patch(a, token, { activeProject: 'x' }, MERGE_PATCH_CONTENT_TYPE, {
      'if-match': '"7"',
    });
    expect(stale.status).toBe(412);
    const current = await patch(a, token, { activeProject: 'y' }, MERGE_PATCH_CONTENT_TYPE, {
      'if-match': '"1"',
    });
    expect(current.status).toBe(200);
    // The ETag form names the counter's epoch too: another epoch is another counter.
    const etag = current.headers.get('etag') ?? '';
    const otherEpoch = await patch(a, token, { activeProject: 'z' }, MERGE_PATCH_CONTENT_TYPE, {
      'if-match': etag.replace(/^"[^.]+\./, '"other.'),
    });
    expect(otherEpoch.status).toBe(412);
    const sameTag = await patch(a, token, { activeProject: 'z' }, MERGE_PATCH_CONTENT_TYPE, {
      'if-match': etag,
    });
    expect(sameTag.status).toBe(200);
  });

  it('answers 413 when the patched state is over the size limit', async () => {
    const { token } = await storedUser();
    const res = await patch(a, token, {
      widgets: { projectStatus: { summary: 'x'.repeat(1_100_000) } },
    });
    expect(res.status).toBe(413);
  });

  it('answers 400 naming timestamp for a patch that stamps the far future', async () => {
    const { token } = await storedUser();
    const res = await patch(a, token, { timestamp: Date.now() + 3_600_000 });
    expect(res.status).toBe(400);
    expect(field(res.body, 'path')).toBe('timestamp');
  });

  it('applies every one of many concurrent patches, through both instances', async () => {
    const { token } = await storedUser();
    const count = 12;
    const results = await Promise.all(
      Array.from({ length: count }, (_, i) =>
        patch(
          i % 2 === 0 ? a : b,
          token,
          [
            {
              op: 'add',
              path: '/widgets/metrics/metrics/-',
              value: { id: `c-${i}`, label: 'c', value: i },
            },
          ],
          JSON_PATCH_CONTENT_TYPE,
        ),
      ),
    );
    expect(results.map((res) => res.status)).toEqual(Array(count).fill(200));
    const after = await stored(token);
    const ids = after.state.widgets.metrics?.metrics.map((metric) => metric.id) ?? [];
    for (let i = 0; i < count; i++) expect(ids).toContain(`c-${i}`);
    expect(after.revision).toBe(1 + count);
  });

  it("keeps a user's alert dismissals while an agent patches metrics at the same time", async () => {
    const { token } = await storedUser(makeState({ alerts: 6, timestamp: Date.now() - 60_000 }));
    const agent = (async () => {
      for (let i = 0; i < 10; i++) {
        const res = await patch(
          b,
          token,
          [{ op: 'replace', path: '/widgets/metrics/metrics/0/value', value: 1000 + i }],
          JSON_PATCH_CONTENT_TYPE,
        );
        expect(res.status).toBe(200);
      }
    })();
    // The user's page: read, dismiss one alert, save the whole state with If-Match;
    // on 412/409 read again and redo the dismissal (as the client does).
    const user = (async () => {
      for (let i = 0; i < 6; i++) {
        for (let attempt = 0; ; attempt++) {
          expect(attempt).toBeLessThan(50);
          const current = await stored(token);
          const state = structuredClone(current.state);
          const alert = state.widgets.alerts[i];
          if (alert) alert.dismissed = true;
          state.timestamp = Math.max(Date.now(), current.state.timestamp);
          const res = await api(a, 'POST', PATH, {
            token,
            body: { state },
            headers: { 'if-match': `"${current.revision}"` },
          });
          if (res.status === 200) break;
          expect([409, 412]).toContain(res.status);
        }
      }
    })();
    await Promise.all([agent, user]);
    const after = (await stored(token)).state;
    expect(after.widgets.alerts.every((alert) => alert.dismissed)).toBe(true);
    expect(after.widgets.metrics?.metrics[0]?.value).toBe(1009);
  });
});

describe('patch-save over the socket', () => {
  it('answers saved with the revision, and other sockets receive the state', async () => {
    const { token } = await storedUser();
    const { socket: writer } = await TestSocket.ready(wsUrl(a), token);
    const { socket: reader } = await TestSocket.ready(wsUrl(b), token);
    sockets.push(writer, reader);
    writer.send({
      type: 'patch-save',
      id: 'p-1',
      patch: { activeProject: 'by-socket' },
      origin: 'agent-x',
    });
    expect(await writer.next('saved', (m) => m.id === 'p-1')).toMatchObject({ revision: 2 });
    const change = await reader.next('state', (m) => m.revision === 2);
    expect(change.origin).toBe('agent-x');
    writer.send({
      type: 'patch-save',
      id: 'p-2',
      patch: [{ op: 'replace', path: '/activeProject', value: 'json' }],
      baseRevision: 2,
    });
    expect(await writer.next('saved', (m) => m.id === 'p-2')).toMatchObject({ revision: 3 });
    expect((await stored(token)).state.activeProject).toBe('json');
  });

  it('answers errors with the request id and the HTTP status', async () => {
    const { token } = await storedUser();
    const { socket } = await TestSocket.ready(wsUrl(a), token);
    sockets.push(socket);
    socket.send({
      type: 'patch-save',
      id: 'stale',
      patch: { activeProject: 'x' },
      baseRevision: 9,
    });
    expect(await socket.next('error', (m) => m.id === 'stale')).toMatchObject({ status: 412 });
    socket.send({
      type: 'patch-save',
      id: 'typed',
      contentType: MERGE_PATCH_CONTENT_TYPE,
      patch: [{ op: 'remove', path: '/activeProject' }],
    });
    expect(await socket.next('error', (m) => m.id === 'typed')).toMatchObject({ status: 400 });
    const empty = await TestSocket.ready(wsUrl(a), await tokenFor(newUser()));
    sockets.push(empty.socket);
    empty.socket.send({ type: 'patch-save', id: 'none', patch: { activeProject: 'x' } });
    expect(await empty.socket.next('error', (m) => m.id === 'none')).toMatchObject({ status: 404 });
  });
});
