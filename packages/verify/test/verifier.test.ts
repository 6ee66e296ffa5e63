import express from 'express';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { request, signUpAndIn } from '../../server/test/helpers/api.js';
import {
  decodeParts,
  hs256WithPublicKey,
  signWith,
  signWithForeignKey,
  tamper,
  unsigned,
} from '../../server/test/helpers/forge.js';
import { currentSigningKey } from '../../server/test/helpers/signing-key.js';
import { RESOURCE_SERVER, startTestServer, type TestServer } from '../../server/test/helpers/test-server.js';
import { sessiondMiddleware } from '../src/express.js';
import type { FeedStatus } from '../src/revocation-feed.js';
import { createVerifier, type Verifier, type VerifierOptions } from '../src/verifier.js';
import { partitionableFetch } from './helpers/partition.js';
import { startResourceServer } from './helpers/resource-server.js';

let sessiond: TestServer;
const open: Array<{ close(): Promise<unknown> }> = [];

beforeAll(async () => {
  sessiond = await startTestServer({ issuerIsURL: true });
});
afterEach(async () => {
  for (const thing of open.splice(0).reverse()) await thing.close();
});
afterAll(async () => {
  await sessiond.close();
});

function verifierFor(options: Partial<VerifierOptions> = {}): Verifier {
  const verifier = createVerifier({
    issuer: sessiond.url,
    audience: 'sessiond',
    clientId: RESOURCE_SERVER.id,
    clientSecret: RESOURCE_SERVER.secret,
    now: () => sessiond.clock.now(),
    stream: { initialBackoffMs: 50, maxBackoffMs: 200 },
    ...options,
  });
  open.push(verifier);
  return verifier;
}

async function resourceServerWith(verifier: Verifier) {
  const server = await startResourceServer(verifier);
  open.push(server.app);
  return (token?: string) =>
    request(server.url, 'GET', '/orders', token ? { token } : {}) as Promise<{
      status: number;
      body: Record<string, unknown>;
    }>;
}

const revoke = (token: string, sessionId: string) =>
  request(sessiond.url, 'POST', '/api/auth/session/revoke', { token, body: { session_id: sessionId } });

describe('a Fastify resource server with the sessiond plugin', () => {
  it('serves a valid token, refuses a missing one, and leaves public routes alone', async () => {
    const verifier = verifierFor();
    const orders = await resourceServerWith(verifier);
    const grant = await signUpAndIn(sessiond.url);
    const ok = await orders(grant.access_token);
    expect(ok.status).toBe(200);
    expect(ok.body).toEqual({ user: expect.any(String), session: grant.session.id });
    expect(await orders()).toMatchObject({ status: 401, body: { error: 'token_missing' } });
  });

  it('refuses a revoked session within a second, from the very next request after the stream delivers', async () => {
    const delivered = new Map<string, number>();
    const verifier = verifierFor({ onRevoked: (sessionId) => delivered.set(sessionId, performance.now()) });
    await verifier.ready();
    const orders = await resourceServerWith(verifier);
    const victim = await signUpAndIn(sessiond.url);
    const other = await signUpAndIn(sessiond.url);
    expect((await orders(victim.access_token)).status).toBe(200);

    const revokedAt = performance.now();
    expect((await revoke(victim.access_token, victim.session.id)).status).toBe(200);
    const deliveredAt = await waitFor(() => delivered.get(victim.session.id), 1000);
    const refused = await orders(victim.access_token);
    expect(refused).toMatchObject({ status: 401, body: { error: 'token_revoked' } });
    const latencyMs = deliveredAt - revokedAt;
    expect(latencyMs).toBeLessThan(1000);
    console.info(`revocation reached the resource server ${latencyMs.toFixed(1)} ms after the revoke call`);
    for (let i = 0; i < 3; i += 1) expect((await orders(victim.access_token)).status).toBe(401);
    expect((await orders(other.access_token)).status).toBe(200);
  });

  it('a verifier started after the revocation refuses the session at once (replay on connect)', async () => {
    const grant = await signUpAndIn(sessiond.url);
    await revoke(grant.access_token, grant.session.id);
    const before = verifierFor();
    await before.ready();
    await expect(before.verify(grant.access_token)).rejects.toMatchObject({ code: 'token_revoked' });
    await before.close();
    const restarted = verifierFor();
    await restarted.ready();
    await expect(restarted.verify(grant.access_token)).rejects.toMatchObject({ code: 'token_revoked' });
  });

  it('says so while the stream is down, catches up on what it missed before it is live again', async () => {
    const partition = partitionableFetch();
    const statuses: FeedStatus[] = [];
    const verifier = verifierFor({ fetch: partition.fetch, onStatus: (status) => statuses.push(status) });
    await verifier.ready();
    const grant = await signUpAndIn(sessiond.url);
    partition.cut();
    await waitFor(() => (verifier.status() === 'down' ? true : undefined), 2000);
    await revoke(grant.access_token, grant.session.id);
    // Default policy while down: accept what is not known to be revoked, and say so.
    expect(verifier.status()).toBe('down');
    expect((await verifier.verify(grant.access_token)).sid).toBe(grant.session.id);
    partition.heal();
    await verifier.ready();
    await expect(verifier.verify(grant.access_token)).rejects.toMatchObject({ code: 'token_revoked' });
    expect(statuses).toEqual(['live', 'down', 'live']);
  });

  it('can fall back to introspection, or fail closed, while the stream is down', async () => {
    const partition = partitionableFetch();
    const introspecting = verifierFor({ fetch: partition.fetch, whileStreamDown: 'introspect' });
    const closed = verifierFor({ fetch: partition.fetch, whileStreamDown: 'reject' });
    await Promise.all([introspecting.ready(), closed.ready()]);
    const revoked = await signUpAndIn(sessiond.url);
    const live = await signUpAndIn(sessiond.url);
    partition.cut();
    await waitFor(
      () => (introspecting.status() === 'down' && closed.status() === 'down' ? true : undefined),
      2000,
    );
    await revoke(revoked.access_token, revoked.session.id);
    await expect(introspecting.verify(revoked.access_token)).rejects.toMatchObject({ code: 'token_revoked' });
    expect((await introspecting.verify(live.access_token)).sid).toBe(live.session.id);
    await expect(closed.verify(live.access_token)).rejects.toMatchObject({ code: 'verifier_unavailable' });
    const orders = await resourceServerWith(closed);
    expect(await orders(live.access_token)).toMatchObject({
      status: 503,
      body: { error: 'verifier_unavailable' },
    });
  });

  it('learns a rotated signing key from the JWKS on first sight of its kid, after the cooldown', async () => {
    const verifier = verifierFor({ jwksCooldownMs: 200 });
    await verifier.ready();
    const before = await signUpAndIn(sessiond.url);
    await verifier.verify(before.access_token);
    const kid = await sessiond.app.sessiond.keys.rotate();
    // The verifier fetched the JWKS moments ago; wait out its (shortened) cooldown.
    await new Promise((resolve) => setTimeout(resolve, 250));
    const after = await signUpAndIn(sessiond.url);
    expect(decodeParts(after.access_token).header.kid).toBe(kid);
    expect((await verifier.verify(after.access_token)).sid).toBe(after.session.id);
    expect((await verifier.verify(before.access_token)).sid).toBe(before.session.id);
  });
});

describe('every forged or wrong token is refused with its code', () => {
  it('through the resource server', async () => {
    const verifier = verifierFor();
    await verifier.ready();
    const orders = await resourceServerWith(verifier);
    const grant = await signUpAndIn(sessiond.url);
    const { header, payload } = decodeParts(grant.access_token);
    const { kid, privateKey, jwk } = await currentSigningKey(sessiond.app.sessiond.store);
    const resign = (h: Record<string, unknown>, p: Record<string, unknown>) =>
      signWith(privateKey, { ...header, kid, ...h }, { ...payload, ...p });
    const now = Math.floor(sessiond.clock.now() / 1000);
    const cases: Array<[string, string, string]> = [
      ['control: re-signed unchanged', resign({}, {}), 'ok'],
      ['alg none', unsigned(header, payload), 'token_invalid'],
      ...hs256WithPublicKey(jwk, header, payload).map((token, i): [string, string, string] => [
        `HS256 with the public key #${i}`,
        token,
        'token_invalid',
      ]),
      ['wrong iss', resign({}, { iss: 'https://evil.example' }), 'token_invalid'],
      ['wrong aud', resign({}, { aud: 'another-api' }), 'token_invalid'],
      ['wrong typ', resign({ typ: 'JWT' }, {}), 'token_invalid'],
      ['expired', resign({}, { exp: now - 1 }), 'token_expired'],
      ['not yet valid', resign({}, { nbf: now + 120 }), 'token_invalid'],
      ['unknown kid', resign({ kid: 'no-such-key' }, {}), 'token_invalid'],
      ['foreign key under a real kid', signWithForeignKey({ ...header, kid }, payload), 'token_invalid'],
      ['tampered payload', tamper(grant.access_token, { sub: 'someone-else' }), 'token_invalid'],
      ['garbage', 'not-a-token', 'token_invalid'],
    ];
    for (const [name, token, expected] of cases) {
      const response = await orders(token);
      expect({ name, result: response.status === 200 ? 'ok' : response.body.error }).toEqual({
        name,
        result: expected,
      });
    }
  });
});

describe('edges of time and outages', () => {
  it('with leeway, keeps refusing a revoked session as long as its last token is accepted', async () => {
    const verifier = verifierFor({ leewaySeconds: 30 });
    await verifier.ready();
    const grant = await signUpAndIn(sessiond.url);
    await revoke(grant.access_token, grant.session.id);
    await waitFor(
      () =>
        verifier.status() === 'live'
          ? verifier.verify(grant.access_token).then(
              () => undefined,
              (e: { code: string }) => e.code,
            )
          : undefined,
      1000,
    );
    // 10 s past exp: the leeway would accept the token, so the revocation must still be known.
    sessiond.clock.advance(15 * 60_000 + 10_000);
    await expect(verifier.verify(grant.access_token)).rejects.toMatchObject({ code: 'token_revoked' });
    sessiond.clock.advance(25_000);
    await expect(verifier.verify(grant.access_token)).rejects.toMatchObject({ code: 'token_expired' });
  });

  it('keeps verifying with known keys when sessiond is unreachable for longer than the key revalidation', async () => {
    const partition = partitionableFetch();
    const verifier = verifierFor({ fetch: partition.fetch });
    await verifier.ready();
    const grant = await signUpAndIn(sessiond.url);
    await verifier.verify(grant.access_token);
    partition.cutAll();
    await waitFor(() => (verifier.status() === 'down' ? true : undefined), 2000);
    sessiond.clock.advance(11 * 60_000);
    expect((await verifier.verify(grant.access_token)).sid).toBe(grant.session.id);
  });

  it('ready() with a timeout rejects when the stream cannot become live (wrong credentials)', async () => {
    const verifier = verifierFor({ clientSecret: 'wrong-secret' });
    await expect(verifier.ready({ timeoutMs: 300 })).rejects.toMatchObject({ code: 'verifier_unavailable' });
    expect(verifier.status()).toBe('down');
  });
});

describe('when sessiond cannot be reached at all', () => {
  it('answers verifier_unavailable (503 through the adapters), not a crash', async () => {
    const grant = await signUpAndIn(sessiond.url);
    const verifier = verifierFor({ baseURL: 'http://127.0.0.1:9', whileStreamDown: 'accept' });
    await expect(verifier.verify(grant.access_token)).rejects.toMatchObject({ code: 'verifier_unavailable' });
    const orders = await resourceServerWith(verifier);
    expect(await orders(grant.access_token)).toMatchObject({
      status: 503,
      body: { error: 'verifier_unavailable' },
    });
    expect(verifier.status()).not.toBe('live');
  });
});

describe('the Express middleware', () => {
  it('protects routes the same way', async () => {
    const verifier = verifierFor();
    await verifier.ready();
    const app = express();
    app.use('/api', sessiondMiddleware(verifier));
    app.get('/api/orders', (req: { sessiond?: { sub: string } }, res: { json(body: unknown): void }) => {
      res.json({ user: req.sessiond?.sub });
    });
    const listener = await new Promise<import('node:http').Server>((resolve) => {
      const server = app.listen(0, '127.0.0.1', () => resolve(server));
    });
    open.push({ close: () => new Promise((resolve) => listener.close(resolve)) });
    const { port } = listener.address() as import('node:net').AddressInfo;
    const base = `http://127.0.0.1:${port}`;
    const grant = await signUpAndIn(sessiond.url);
    expect(await request(base, 'GET', '/api/orders', { token: grant.access_token })).toMatchObject({
      status: 200,
      body: { user: expect.any(String) },
    });
    expect(await request(base, 'GET', '/api/orders')).toMatchObject({
      status: 401,
      body: { error: 'token_missing' },
    });
    await revoke(grant.access_token, grant.session.id);
    await waitFor(
      async () =>
        (await request(base, 'GET', '/api/orders', { token: grant.access_token })).status === 401
          ? true
          : undefined,
      1000,
    );
    expect(await request(base, 'GET', '/api/orders', { token: grant.access_token })).toMatchObject({
      status: 401,
      body: { error: 'token_revoked' },
    });
  });
});

/** Polls until `probe` yields a value; fails after `timeoutMs` (bounded, never a sleep in place of an assertion). */
async function waitFor<T>(
  probe: () => T | undefined | Promise<T | undefined>,
  timeoutMs: number,
): Promise<T> {
  const deadline = performance.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (performance.now() > deadline) throw new Error(`condition not met within ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}
