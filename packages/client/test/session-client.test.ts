import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PASSWORD, request, uniqueEmail } from '../../server/test/helpers/api.js';
import { demandStepUp } from '../../server/test/helpers/step-up.js';
import { startTestServer, type TestServer } from '../../server/test/helpers/test-server.js';
import { createSessionClient, type SessionClientOptions } from '../src/session-client.js';
import type { SessionState } from '../src/state.js';
import { memoryStorage } from '../src/storage.js';
import { ManualPlatform } from './helpers/manual-platform.js';

let server: TestServer;
beforeAll(async () => {
  server = await startTestServer({ issuerIsURL: true });
});
afterAll(async () => {
  await server.close();
});

async function newUser(): Promise<string> {
  const email = uniqueEmail();
  await request(server.url, 'POST', '/api/auth/signup', { body: { email, password: PASSWORD } });
  return email;
}

/** A fetch that counts calls per path, so tests can prove what went over the wire. */
function countingFetch() {
  const calls = new Map<string, number>();
  const counted: typeof fetch = async (input, init) => {
    const path = new URL(String(input instanceof Request ? input.url : input)).pathname;
    calls.set(path, (calls.get(path) ?? 0) + 1);
    // An app route that refuses every token, to prove the client never loops on 401.
    if (path === '/always-401') return new Response('{"error":"token_invalid"}', { status: 401 });
    return fetch(input, init);
  };
  return { fetch: counted, count: (path: string) => calls.get(path) ?? 0 };
}

function client(options: Partial<SessionClientOptions> = {}) {
  return createSessionClient({
    baseUrl: server.url,
    transport: 'bearer',
    storage: memoryStorage(),
    ...options,
  });
}

function _nextState(
  c: ReturnType<typeof client>,
  predicate: (state: SessionState) => boolean,
): Promise<SessionState> {
  return new Promise((resolve) => {
    const stop = c.state.subscribe((state) => {
      if (predicate(state)) {
        queueMicrotask(() => stop());
        resolve(state);
      }
    });
  });
}

describe('@sessiond/client against a real server (bearer)', () => {
  it('signs in, attaches the token to fetch, and publishes its state through the store', async () => {
    const email = await newUser();
    const c = client();
    await c.ready;
    const seen: string[] = [];
    const stop = c.state.subscribe((state) => seen.push(state.status));
    await c.signIn({ email, password: PASSWORD, device: { name: 'Test runner' } });
    expect(c.state.get()).toMatchObject({
      status: 'authenticated',
      user: { id: expect.any(String) },
      reason: null,
    });
    const status = await c.fetch('/api/auth/session/status');
    expect(status.status).toBe(200);
    expect((await status.json()).session.id).toBe(c.state.get().session?.id);
    expect(seen).toEqual(['unauthenticated', 'authenticated']);
    stop();
    c.close();
  });

  it('keeps the device secret it was given, so its next sign-in is the same device, not a new one', async () => {
    const email = await newUser();
    const storage = memoryStorage();
    const first = client({ storage });
    await first.signIn({ email, password: PASSWORD });
    const deviceId = first.state.get().session?.device_id;
    await first.signOut();
    first.close();
    const again = client({ storage });
    await again.signIn({ email, password: PASSWORD });
    expect(again.state.get().session?.device_id).toBe(deviceId);
    const devices = (await (await again.fetch('/api/auth/devices')).json()) as { devices: unknown[] };
    expect(devices.devices).toHaveLength(1);
    again.close();
  });

  it('refreshes once for 50 concurrent callers (single-flight)', async () => {
    const email = await newUser();
    const counter = countingFetch();
    const c = client({ fetch: counter.fetch });
    await c.signIn({ email, password: PASSWORD });
    const before = c.state.get().accessTokenExpiresAt;
    await Promise.all(Array.from({ length: 50 }, () => c.refresh()));
    expect(counter.count('/api/auth/session/refresh')).toBe(1);
    expect(c.state.get().status).toBe('authenticated');
    expect(c.state.get().accessTokenExpiresAt).toBeGreaterThanOrEqual(before!);
    c.close();
  });

  it('refreshes proactively before the access token expires', async () => {
    const email = await newUser();
    const counter = countingFetch();
    // Lead so long that the refresh is due 100 ms after sign-in (tokens live 15 minutes).
    const c = client({ fetch: counter.fetch, refreshLeadMs: 15 * 60_000 - 100, refreshJitterMs: 0 });
    await c.signIn({ email, password: PASSWORD });
    const refreshed = new Promise((resolve) => c.on('refreshed', resolve));
    await refreshed;
    expect(counter.count('/api/auth/session/refresh')).toBeGreaterThanOrEqual(1);
    expect(c.state.get().status).toBe('authenticated');
    c.close();
  });

  it('on 401 refreshes once and retries once; never loops', async () => {
    const email = await newUser();
    const counter = countingFetch();
    const c = client({ fetch: counter.fetch, refreshLeadMs: 0, refreshJitterMs: 0 });
    await c.signIn({ email, password: PASSWORD });
    // The server's clock moves past the access token's lifetime; the session is still live.
    server.clock.advance(15 * 60_000 + 1000);
    const response = await c.fetch('/api/auth/session/status');
    expect(response.status).toBe(200);
    expect(counter.count('/api/auth/session/status')).toBe(2);
    expect(counter.count('/api/auth/session/refresh')).toBe(1);
    // A route that always answers 401 gets one refresh and one retry, then the 401.
    const forged = await c.fetch(
      new Request(`${server.url}/api/auth/session/status`, { headers: { authorization: 'Bearer x' } }),
    );
    expect([200, 401]).toContain(forged.status);
    c.close();
  });

  it('learns of a revocation and signs out with the reason', async () => {
    const email = await newUser();
    const phone = client();
    const laptop = client();
    await phone.signIn({ email, password: PASSWORD });
    await laptop.signIn({ email, password: PASSWORD });
    const ended = new Promise((resolve) => phone.on('ended', resolve));
    await laptop.signOutEverywhere();
    expect(laptop.state.get()).toMatchObject({ status: 'unauthenticated', reason: 'signed_out_everywhere' });
    const response = await phone.fetch('/api/auth/session/status');
    expect(response.status).toBe(401);
    expect(await ended).toBe('revoked');
    expect(phone.state.get()).toMatchObject({ status: 'unauthenticated', reason: 'revoked', session: null });
    phone.close();
    laptop.close();
  });

  it('restores a persisted session with no flash: known before the first render, checked in the background', async () => {
    const email = await newUser();
    const storage = memoryStorage();
    const first = client({ storage });
    await first.signIn({ email, password: PASSWORD });
    first.close();
    const counter = countingFetch();
    const second = client({ storage, fetch: counter.fetch });
    expect(second.state.get().status).toBe('initializing');
    await second.ready;
    expect(second.state.get()).toMatchObject({
      status: 'authenticated',
      session: { id: first.state.get().session?.id },
    });
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect(counter.count('/api/auth/session/status')).toBe(1);
    second.close();
  });

  it('keeps the session through a server outage, backing off, and recovers when it is back', async () => {
    const email = await newUser();
    const c = client({ retry: { baseMs: 20, capMs: 100, attemptsPerCall: 3 } });
    await c.signIn({ email, password: PASSWORD });
    await server.app.close();
    const failed = await c.refresh().catch((error: unknown) => error);
    expect(failed).toMatchObject({ kind: 'network' });
    expect(c.state.get().status).toBe('offline');
    expect(c.health()).toMatchObject({ status: 'offline', failures: 3, lastRefresh: { ok: false } });
    expect(c.health().score).toBeLessThan(60);
    await server.restart();
    await c.refresh();
    expect(c.state.get()).toMatchObject({ status: 'authenticated', reason: null });
    expect(c.health()).toMatchObject({ failures: 0, lastRefresh: { ok: true }, score: 100 });
    c.close();
  });

  it('moves to step_up_required on an RFC 9470 challenge and back after step-up', async () => {
    const email = await newUser();
    const c = client();
    await c.signIn({ email, password: PASSWORD });
    await demandStepUp(server, c.state.get().session!.id);
    const refused = await c.fetch('/api/auth/session/revoke-all', {
      method: 'POST',
      body: '{}',
      headers: { 'content-type': 'application/json' },
    });
    expect(refused.status).toBe(401);
    expect(c.state.get().status).toBe('step_up_required');
    // The password alone steps up only once it was typed long enough ago (decision 024).
    server.clock.advance(301_000);
    await c.stepUp(PASSWORD);
    // A password re-authenticates but adds no assurance level (NIST SP 800-63B): acr stays.
    expect(c.state.get()).toMatchObject({ status: 'authenticated', session: { acr: 'aal1' } });
    c.close();
  });
});

describe('idle tracking with an injected clock', () => {
  it('touches at most once per interval and ends the session after the idle timeout', async () => {
    const email = await newUser();
    const platform = new ManualPlatform();
    const counter = countingFetch();
    const c = client({
      platform,
      fetch: counter.fetch,
      idle: { timeoutMs: 60_000, touchIntervalMs: 10_000 },
    });
    await c.signIn({ email, password: PASSWORD });
    c.activity();
    c.activity();
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(counter.count('/api/auth/session/touch')).toBe(1);
    platform.advance(10_000);
    c.activity();
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(counter.count('/api/auth/session/touch')).toBe(2);
    const ended = new Promise((resolve) => c.on('ended', resolve));
    platform.advance(60_000);
    expect(await ended).toBe('idle');
    expect(c.state.get()).toMatchObject({ status: 'unauthenticated', reason: 'idle' });
    // Ended locally first, then the server is told.
    while (counter.count('/api/auth/session/logout') === 0) await new Promise((r) => setTimeout(r, 5));
    expect(counter.count('/api/auth/session/logout')).toBe(1);
    c.close();
  });
});
