import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PASSWORD, request, uniqueEmail } from '../../server/test/helpers/api.js';
import { startTestServer, type TestServer } from '../../server/test/helpers/test-server.js';
import { memoryBiometricKeychain } from '../src/biometric-keychain.js';
import { createSessionClient, type SessionClientOptions } from '../src/session-client.js';
import type { SessionStorage } from '../src/storage.js';

let server: TestServer;
beforeAll(async () => {
  server = await startTestServer({ issuerIsURL: true });
});
afterAll(async () => {
  await server.close();
});

const KEY = 'sessiond.refresh_token';

async function newUser(): Promise<string> {
  const email = uniqueEmail();
  await request(server.url, 'POST', '/api/auth/signup', { body: { email, password: PASSWORD } });
  return email;
}

/** A memory storage whose every value the test can read, to prove what is (not) in it. */
function inspectableStorage(): SessionStorage & { dump(): string } {
  const values = new Map<string, string>();
  return {
    get: async (key) => values.get(key) ?? null,
    set: async (key, value) => {
      values.set(key, value);
    },
    remove: async (key) => {
      values.delete(key);
    },
    dump: () => [...values.values()].join('\n'),
  };
}

/** A fetch that records each path it was asked for. */
function recordingFetch() {
  const paths: string[] = [];
  const recorded: typeof fetch = async (input, init) => {
    paths.push(new URL(String(input instanceof Request ? input.url : input)).pathname);
    return fetch(input, init);
  };
  return { fetch: recorded, paths };
}

function device(options: Partial<SessionClientOptions> & Pick<SessionClientOptions, 'unlock'>) {
  return createSessionClient({ baseUrl: server.url, transport: 'bearer', ...options });
}

/** Signs in on a "phone" with the gate, then closes the app: what a cold start finds. */
async function signedInThenClosed() {
  const email = await newUser();
  const storage = inspectableStorage();
  const keychain = memoryBiometricKeychain();
  const app = device({ storage, unlock: { keychain, prompt: 'Unlock Shop' } });
  await app.signIn({ email, password: PASSWORD });
  const sessionId = app.state.get().session!.id;
  app.close();
  return { email, storage, keychain, sessionId };
}

describe('the React Native unlock gate (decision 027), against a real server', () => {
  it('keeps the refresh token only in the biometric keychain item, never in storage', async () => {
    const email = await newUser();
    const storage = inspectableStorage();
    const keychain = memoryBiometricKeychain();
    const app = device({ storage, unlock: { keychain } });
    await app.signIn({ email, password: PASSWORD });
    const stored = keychain.peek(KEY);
    expect(stored).toMatch(/\S{20,}/);
    expect(storage.dump()).not.toContain(stored);
    expect(storage.dump()).not.toMatch(/"(access|refresh)Token"/);
    // The token rotates at every refresh: the item follows, without a prompt.
    await app.refresh();
    expect(keychain.peek(KEY)).not.toBe(stored);
    expect(storage.dump()).not.toContain(keychain.peek(KEY));
    expect(keychain.prompts).toEqual([]);
    expect((await app.fetch('/api/auth/session/status')).status).toBe(200);
    app.close();
  });

  it('after a cold start is locked and sends nothing until unlock() passes the prompt', async () => {
    const { storage, keychain, sessionId } = await signedInThenClosed();
    const wire = recordingFetch();
    const app = device({ storage, fetch: wire.fetch, unlock: { keychain, prompt: 'Unlock Shop' } });
    await app.ready;
    expect(app.state.get()).toMatchObject({ status: 'locked', session: { id: sessionId } });
    await expect(app.refresh()).rejects.toMatchObject({ kind: 'locked' });
    await expect(app.passkeys.list()).rejects.toMatchObject({ kind: 'locked' });
    const blind = await app.fetch('/api/auth/session/status');
    expect(blind.status).toBe(401);
    expect(wire.paths).toEqual(['/api/auth/session/status']);
    expect(keychain.prompts).toEqual([]);

    expect(await app.unlock()).toBe('unlocked');
    expect(keychain.prompts).toEqual(['Unlock Shop']);
    expect(app.state.get()).toMatchObject({ status: 'authenticated', session: { id: sessionId } });
    expect(wire.paths).toContain('/api/auth/session/refresh');
    const status = await app.fetch('/api/auth/session/status');
    expect(status.status).toBe(200);
    expect((await status.json()).session.id).toBe(sessionId);
    app.close();
  });

  it('a cancelled prompt keeps it locked and signed in: a later unlock works', async () => {
    const { storage, keychain, sessionId } = await signedInThenClosed();
    const app = device({ storage, unlock: { keychain } });
    await app.ready;
    keychain.respond('cancel');
    expect(await app.unlock()).toBe('cancelled');
    expect(app.state.get()).toMatchObject({ status: 'locked', session: { id: sessionId }, reason: null });
    expect(keychain.peek(KEY)).toBeDefined();
    expect(await storage.get('sessiond.session')).not.toBeNull();
    keychain.respond('approve');
    expect(await app.unlock()).toBe('unlocked');
    expect(keychain.prompts).toEqual(['Unlock your session', 'Unlock your session']);
    expect(app.state.get().status).toBe('authenticated');
    app.close();
  });

  it('concurrent unlock() calls share one prompt', async () => {
    const { storage, keychain } = await signedInThenClosed();
    const app = device({ storage, unlock: { keychain } });
    await app.ready;
    expect(await Promise.all([app.unlock(), app.unlock(), app.unlock()])).toEqual([
      'unlocked',
      'unlocked',
      'unlocked',
    ]);
    expect(keychain.prompts).toHaveLength(1);
    app.close();
  });

  it('an item invalidated by a biometrics change ends the session locally (keychain_lost)', async () => {
    const { storage, keychain } = await signedInThenClosed();
    keychain.invalidate();
    const app = device({ storage, unlock: { keychain } });
    await app.ready;
    expect(await app.unlock()).toBe('ended');
    expect(app.state.get()).toMatchObject({ status: 'unauthenticated', reason: 'keychain_lost' });
    expect(await storage.get('sessiond.session')).toBeNull();
    app.close();
  });

  it('a session revoked while the app was closed ends at unlock', async () => {
    const { email, storage, keychain } = await signedInThenClosed();
    const other = createSessionClient({ baseUrl: server.url });
    await other.signIn({ email, password: PASSWORD });
    await other.signOutEverywhere();
    const app = device({ storage, unlock: { keychain } });
    await app.ready;
    expect(await app.unlock()).toBe('ended');
    expect(app.state.get()).toMatchObject({ status: 'unauthenticated', reason: 'revoked' });
    expect(keychain.peek(KEY)).toBeUndefined();
    app.close();
    other.close();
  });

  it('lock() forgets the tokens in memory; a refresh in flight lands in the keychain first', async () => {
    const email = await newUser();
    const keychain = memoryBiometricKeychain();
    const app = device({ storage: inspectableStorage(), unlock: { keychain } });
    await app.signIn({ email, password: PASSWORD });
    const before = keychain.peek(KEY);
    const refreshing = app.refresh();
    await app.lock();
    await refreshing;
    expect(keychain.peek(KEY)).not.toBe(before);
    expect(app.state.get().status).toBe('locked');
    // Nothing usable stayed in memory: not even the grant that landed after lock() was called.
    expect((await app.fetch('/api/auth/session/status')).status).toBe(401);
    await expect(app.refresh()).rejects.toMatchObject({ kind: 'locked' });
    // The rotated token is the live one: unlocking with it is no reuse.
    expect(await app.unlock()).toBe('unlocked');
    expect(app.state.get()).toMatchObject({ status: 'authenticated', reason: null });
    expect((await app.fetch('/api/auth/session/status')).status).toBe(200);
    app.close();
  });

  it('moves a token stored before the gate was turned on into the keychain', async () => {
    const email = await newUser();
    const storage = inspectableStorage();
    const before = createSessionClient({ baseUrl: server.url, storage });
    await before.signIn({ email, password: PASSWORD });
    before.close();
    expect(storage.dump()).toContain('refreshToken');
    const keychain = memoryBiometricKeychain();
    const app = device({ storage, unlock: { keychain } });
    await app.ready;
    expect(app.state.get().status).toBe('locked');
    expect(storage.dump()).not.toMatch(/"(access|refresh)Token"/);
    expect(await app.unlock()).toBe('unlocked');
    expect((await app.fetch('/api/auth/session/status')).status).toBe(200);
    app.close();
  });

  it('signing out forgets the keychain item; a password sign-in from locked works', async () => {
    const { email, storage, keychain } = await signedInThenClosed();
    const app = device({ storage, unlock: { keychain } });
    await app.ready;
    expect(app.state.get().status).toBe('locked');
    await app.signIn({ email, password: PASSWORD });
    expect(app.state.get().status).toBe('authenticated');
    expect(keychain.prompts).toEqual([]);
    await app.signOut();
    expect(keychain.peek(KEY)).toBeUndefined();
    app.close();
  });

  it('refuses the cookie transport: there the refresh token is an HttpOnly cookie', () => {
    expect(() => device({ transport: 'cookie', unlock: { keychain: memoryBiometricKeychain() } })).toThrow(
      /bearer/,
    );
  });
});
