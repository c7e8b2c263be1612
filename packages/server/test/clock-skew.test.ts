// One bad clock must not lock everyone out (issue 12): a state stamped further ahead of
// the server clock than MAX_CLOCK_SKEW_MS is refused with 400 naming `timestamp`, over
// HTTP and over the socket, so it can never win every later newer-wins comparison.
import { MAX_CLOCK_SKEW_MS } from '@hyvve/schema';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { makeState } from '../../../test-support/fixtures.js';
import { type RunningServer, StatePersistenceService } from '../src/index.js';
import { MemoryStateStore } from '../src/store/memory-store.js';
import { api, field, testServer, tokenFor, wsUrl } from './support/servers.js';
import { TestSocket } from './support/test-socket.js';

const PATH = '/api/dashboard/state';
let server: RunningServer;
const sockets: TestSocket[] = [];

beforeAll(async () => {
  server = await testServer();
});
afterEach(() => {
  for (const socket of sockets.splice(0)) socket.close();
});

let n = 0;
const newUser = () => `skew-user-${++n}`;

describe('MAX_CLOCK_SKEW_MS', () => {
  it('answers 400 naming timestamp for a state from the far future, over HTTP', async () => {
    const token = await tokenFor(newUser());
    for (const timestamp of [Date.now() + MAX_CLOCK_SKEW_MS + 60_000, 253_402_300_799_000, 1e308]) {
      const res = await api(server, 'POST', PATH, {
        token,
        body: { state: makeState({ timestamp }) },
      });
      expect(res.status).toBe(400);
      expect(field(res.body, 'error')).toBe('invalid_state');
      expect(field(res.body, 'path')).toBe('timestamp');
      expect(String(field(res.body, 'message'))).toContain('ahead of the server clock');
      // The message tells the user what is allowed and where to look.
      expect(String(field(res.body, 'message'))).toContain(
        `(at most ${MAX_CLOCK_SKEW_MS} ms allowed; check the device clock)`,
      );
    }
    expect((await api(server, 'GET', PATH, { token })).status).toBe(404);
  });

  it('accepts a clock a little ahead, and later saves from correct clocks still win', async () => {
    const token = await tokenFor(newUser());
    const ahead = makeState({ timestamp: Date.now() + 60_000 });
    expect((await api(server, 'POST', PATH, { token, body: { state: ahead } })).status).toBe(200);
    const refused = makeState({ timestamp: Date.now() + MAX_CLOCK_SKEW_MS * 2 });
    expect((await api(server, 'POST', PATH, { token, body: { state: refused } })).status).toBe(400);
  });

  it('answers an error 400 naming timestamp over the socket', async () => {
    const { socket } = await TestSocket.ready(wsUrl(server), await tokenFor(newUser()));
    sockets.push(socket);
    socket.send({ type: 'save', id: 'future', state: makeState({ timestamp: 9e15 }) });
    const error = await socket.next('error', (message) => message.id === 'future');
    expect(error).toMatchObject({ status: 400, error: 'invalid_state', path: 'timestamp' });
    expect(error.message).toContain('timestamp');
    // The server's clock comes with the refusal, so the client can re-stamp and retry.
    expect(Math.abs(Number(error.serverTime) - Date.now())).toBeLessThan(5000);
  });

  it('tells a socket the server time in ready', async () => {
    const before = Date.now();
    const socket = await TestSocket.open(wsUrl(server), { token: await tokenFor(newUser()) });
    sockets.push(socket);
    const ready = await socket.next('ready');
    expect(Number(ready.serverTime)).toBeGreaterThanOrEqual(before);
    expect(Number(ready.serverTime)).toBeLessThanOrEqual(Date.now());
  });

  it('uses the configured skew and the service clock', async () => {
    const now = 1_700_000_000_000;
    const service = new StatePersistenceService({
      store: new MemoryStateStore(),
      now: () => now,
      maxClockSkewMs: 1000,
    });
    const owner = { workspaceId: 'acme', userId: 'clock' };
    await expect(service.save(owner, makeState({ timestamp: now + 1000 }))).resolves.toMatchObject({
      revision: 1,
    });
    await expect(service.save(owner, makeState({ timestamp: now + 1001 }))).rejects.toMatchObject({
      code: 'invalid_state',
      path: 'timestamp',
    });
    expect(
      () => new StatePersistenceService({ store: new MemoryStateStore(), maxClockSkewMs: -1 }),
    ).toThrow(expect.objectContaining({ name: 'OptionError', option: 'maxClockSkewMs' }));
    await service.close();
  });
});
