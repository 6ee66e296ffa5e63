import type { AddressInfo } from 'node:net';
import express from 'express';
import Fastify from 'fastify';
import { afterAll, beforeAll, describe, expect, expectTypeOf, it } from 'vitest';
import { request } from '../../server/test/helpers/api.js';
import { BACKEND_ENV, backendSession } from '../../server/test/helpers/backend.js';
import { RESOURCE_SERVER, startTestServer, type TestServer } from '../../server/test/helpers/test-server.js';
import { authorize } from '../src/authorize.js';
import { sessiondMiddleware } from '../src/express.js';
import { sessiondAuth } from '../src/fastify.js';
import { createVerifier, type Verifier } from '../src/verifier.js';

/** The app's own claims, as it declares them to the verifier. */
interface ShopClaims {
  roles?: string[];
  tenant?: string;
  plan?: 'free' | 'pro' | 'team';
}

let sessiond: TestServer;
let verifier: Verifier<ShopClaims>;
const closers: Array<() => Promise<unknown>> = [];
let counter = 0;

const tokenWith = async (claims: Record<string, unknown>): Promise<string> =>
  (await backendSession(sessiond.url, { user: { external_id: `verify-${Date.now()}-${++counter}` }, claims }))
    .access_token;

beforeAll(async () => {
  sessiond = await startTestServer({ issuerIsURL: true, env: BACKEND_ENV });
  verifier = createVerifier<ShopClaims>({
    issuer: sessiond.url,
    audience: 'sessiond',
    clientId: RESOURCE_SERVER.id,
    clientSecret: RESOURCE_SERVER.secret,
    now: () => sessiond.clock.now(),
  });
  await verifier.ready({ timeoutMs: 5000 });
});
afterAll(async () => {
  for (const close of closers.reverse()) await close();
  await verifier.close();
  await sessiond.close();
});

describe('custom claims in @sessiond/verify', () => {
  it('types the custom claims through the generic parameter and hands them over', async () => {
    const claims = await verifier.verify(await tokenWith({ roles: ['admin'], tenant: 't-1', plan: 'pro' }));
    expectTypeOf(claims.roles).toEqualTypeOf<string[] | undefined>();
    expectTypeOf(claims.plan).toEqualTypeOf<'free' | 'pro' | 'team' | undefined>();
    expectTypeOf(claims.sid).toEqualTypeOf<string>();
    expect(claims).toMatchObject({ roles: ['admin'], tenant: 't-1', plan: 'pro' });
  });

  it('authorize() requires a claim value: equal, contained in an array, or any of a list; else 403 forbidden', async () => {
    const admin = `Bearer ${await tokenWith({ roles: ['editor', 'admin'], plan: 'team' })}`;
    const editor = `Bearer ${await tokenWith({ roles: ['editor'], plan: 'free' })}`;
    const none = `Bearer ${await tokenWith({})}`;
    expect((await authorize(verifier, admin, { claims: { roles: 'admin' } })).ok).toBe(true);
    expect((await authorize(verifier, admin, { claims: { plan: ['pro', 'team'] } })).ok).toBe(true);
    for (const header of [editor, none]) {
      const refused = await authorize(verifier, header, {
        claims: { roles: 'admin', plan: ['pro', 'team'] },
      });
      expect(refused).toEqual({
        ok: false,
        status: 403,
        challenge: 'Bearer realm="sessiond", error="insufficient_scope"',
        body: {
          error: 'forbidden',
          message: 'this route requires the claim "roles" to be or include "admin"',
        },
      });
    }
    const plan = await authorize(verifier, editor, { claims: { plan: ['pro', 'team'] } });
    expect(plan).toMatchObject({ status: 403, body: { message: /"plan" to be or include "pro" or "team"/ } });
    // No requirement: any valid token, as before.
    expect((await authorize(verifier, none)).ok).toBe(true);
    // An invalid token is still 401, whatever the requirement.
    expect(await authorize(verifier, 'Bearer x.y.z', { claims: { roles: 'admin' } })).toMatchObject({
      status: 401,
    });
  });

  it('the Express middleware and the Fastify plugin refuse with 403 forbidden over real HTTP', async () => {
    const ex = express();
    ex.use('/admin', sessiondMiddleware(verifier, { claims: { roles: 'admin' } }));
    ex.get('/admin/report', (req, res) => {
      res.json({ roles: (req as unknown as { sessiond: { roles: string[] } }).sessiond.roles });
    });
    const exServer = ex.listen(0, '127.0.0.1');
    await new Promise((resolve) => exServer.once('listening', resolve));
    closers.push(() => new Promise((resolve) => exServer.close(resolve)));
    const exURL = `http://127.0.0.1:${(exServer.address() as AddressInfo).port}`;

    const fa = Fastify();
    await fa.register(async (scope) => {
      await scope.register(sessiondAuth, { verifier, claims: { plan: ['pro', 'team'] } });
      scope.get('/exports', async (req) => ({ plan: req.sessiond.plan }));
    });
    const faURL = await fa.listen({ host: '127.0.0.1', port: 0 });
    closers.push(() => fa.close());

    const admin = await tokenWith({ roles: ['admin'], plan: 'pro' });
    const editor = await tokenWith({ roles: ['editor'], plan: 'free' });
    expect((await request(exURL, 'GET', '/admin/report', { token: admin })).body).toEqual({
      roles: ['admin'],
    });
    const exRefused = await request(exURL, 'GET', '/admin/report', { token: editor });
    expect(exRefused.status).toBe(403);
    expect(exRefused.body).toMatchObject({ error: 'forbidden' });
    expect(exRefused.headers.get('www-authenticate')).toMatch(/insufficient_scope/);
    expect((await request(faURL, 'GET', '/exports', { token: admin })).body).toEqual({ plan: 'pro' });
    const faRefused = await request(faURL, 'GET', '/exports', { token: editor });
    expect(faRefused.status).toBe(403);
    expect(faRefused.body).toMatchObject({ error: 'forbidden', message: /"plan"/ });
  });
});
