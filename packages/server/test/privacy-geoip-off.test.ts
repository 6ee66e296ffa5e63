import { createRequire } from 'node:module';
import type { ActiveSession, TokenResponse } from '@sessiond/protocol';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { PASSWORD, request, uniqueEmail } from './helpers/api.js';
import { startTestServer, type TestServer } from './helpers/test-server.js';

// Its own file, so its own module cache: geoip-lite reads about 150 MB of tables when required,
// and a sessiond without SESSIOND_GEOIP must never require it (decision 035).

const geoipLoaded = (): boolean =>
  Object.keys(createRequire(import.meta.url).cache).some((file) => file.includes('/geoip-lite/'));

let server: TestServer;
beforeAll(async () => {
  server = await startTestServer({ env: { SESSIOND_TRUST_PROXY: 'true' } });
});
afterAll(async () => {
  await server.close();
});

it('is off by default: no location stored or shown, and geoip-lite never loaded', async () => {
  const email = uniqueEmail();
  await request(server.url, 'POST', '/api/auth/signup', { body: { email, password: PASSWORD } });
  const grant = await request<TokenResponse>(server.url, 'POST', '/api/auth/session/create', {
    body: { email, password: PASSWORD },
    headers: { 'x-forwarded-for': '81.2.69.160' },
  });
  expect(grant.status).toBe(200);
  const active = await request<{ sessions: ActiveSession[] }>(server.url, 'GET', '/api/auth/session/active', {
    token: grant.body.access_token,
  });
  const session = active.body.sessions[0];
  expect(session?.ip).toBe('81.2.69.160');
  expect(session?.location).toBeNull();
  expect(geoipLoaded()).toBe(false);
});
