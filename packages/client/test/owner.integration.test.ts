// Sign-out is local and copies are owned, against the real server and Redis: a sign-out
// keeps the server copy and the other device's dashboard; a token that changes hands while
// the engine runs loads the new person's server copy and never overwrites it.
import { describe, expect, it } from 'vitest';
import type { SocketLike } from './support/client.js';
import { waitUntil } from './support/fakes.js';
import { setUpRealServer } from './support/real-server.js';

const real = setUpRealServer({
  secret: 'client-owner-secret',
  workspaceId: 'ws-owner',
  userPrefix: 'owner',
});

async function serverCopy(userId: string): Promise<{ status: number; body: unknown }> {
  const response = await real.fetchState(userId);
  return { status: response.status, body: response.status === 200 ? await response.json() : null };
}

async function waitUntilServerHas(userId: string, activeProject: string): Promise<void> {
  const deadline = Date.now() + 10_000;
  for (;;) {
    const { body } = await serverCopy(userId);
    if (
      (body as { state?: { activeProject?: string } } | null)?.state?.activeProject ===
      activeProject
    )
      return;
    if (Date.now() > deadline)
      throw new Error(`the server never held ${activeProject} for ${userId}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

describe('sign-out and owners against the real server', () => {
  it('a sign-out clears this device only: the server copy and the other device keep the dashboard', async () => {
    const user = real.newUser();
    const laptop = real.device(user);
    const phone = real.device(user);
    const synced = (d: typeof laptop) => d.engine.getSnapshot().syncStatus === 'synced';
    await waitUntil(() => synced(laptop) && synced(phone), 10_000, 'both devices synced');
    laptop.store.getState().setActiveProject('kept-on-sign-out');
    await waitUntil(() => phone.store.getState().activeProject === 'kept-on-sign-out', 10_000);
    await waitUntilServerHas(user, 'kept-on-sign-out');

    expect(await laptop.engine.clear()).toEqual({ local: true, server: 'kept' });
    expect(laptop.store.getState().activeProject).toBeNull();
    expect(laptop.storage.data.has('integration')).toBe(false);
    const { status, body } = await serverCopy(user);
    expect(status).toBe(200);
    expect(body).toMatchObject({ state: { activeProject: 'kept-on-sign-out' } });
    // A change on the phone after the sign-out is saved and not undone by the laptop.
    phone.store.getState().setActiveProject('after-sign-out');
    await waitUntilServerHas(user, 'after-sign-out');
    expect(laptop.store.getState().activeProject).toBeNull();
    expect(phone.store.getState().activeProject).toBe('after-sign-out');
  });

  it('switching users in place loads the second user’s copy and leaves both server copies alone', async () => {
    const first = real.newUser();
    const second = real.newUser();
    const secondsDevice = real.device(second);
    secondsDevice.store.getState().setActiveProject('second-users-own');
    await waitUntilServerHas(second, 'second-users-own');
    const before = (await serverCopy(second)).body as { revision: number };
    secondsDevice.engine.stop();

    let signedIn = first;
    const sockets: SocketLike[] = [];
    const shared = real.device(first, {
      sync: { getToken: () => real.token(signedIn) },
      wrapSocket: (socket) => {
        sockets.push(socket);
        return socket;
      },
    });
    await waitUntil(() => shared.engine.getSnapshot().syncStatus === 'synced', 10_000);
    shared.store.getState().setActiveProject('first-users-own');
    await waitUntilServerHas(first, 'first-users-own');

    // The app now hands out the second user's token; the socket drops and reconnects.
    signedIn = second;
    shared.store.getState().setActiveProject('first-users-last-edit');
    sockets.at(-1)?.close(4000, 'test: reconnect');
    await waitUntil(
      () => shared.store.getState().activeProject === 'second-users-own',
      10_000,
      'the second user’s dashboard loaded',
    );
    await waitUntil(() => shared.engine.getSnapshot().syncStatus === 'synced', 10_000);
    shared.engine.flush();
    const after = (await serverCopy(second)).body as { revision: number; state: unknown };
    expect(after.revision).toBe(before.revision);
    expect(after.state).toMatchObject({ activeProject: 'second-users-own' });
    expect(JSON.parse(shared.storage.data.get('integration') ?? '{}').owner).toEqual({
      workspaceId: 'ws-owner',
      userId: second,
    });
    // The first user's copy is theirs alone: never the second user's, never overwritten by them.
    const firstCopy = (await serverCopy(first)).body as { state: { activeProject: string } };
    expect(['first-users-own', 'first-users-last-edit']).toContain(firstCopy.state.activeProject);
  });
});
