import { afterAll, beforeAll, expect, it } from 'vitest';
import { request, signUpAndIn } from './helpers/api.js';
import { decodeParts, signWith } from './helpers/forge.js';
import { currentSigningKey } from './helpers/signing-key.js';
import { startTestServer, type TestServer } from './helpers/test-server.js';

// Issue 12, found by the chaos suite's clock-skew scenario: with nodes' clocks 4 s apart, the
// slow node refused the fast node's fresh access tokens as "issued in the future" (401
// token_invalid) until its clock caught up. A few seconds of skew between nodes are tolerated
// on iat, never on exp.
let server: TestServer;
let grant: Awaited<ReturnType<typeof signUpAndIn>>;
beforeAll(async () => {
  server = await startTestServer();
  grant = await signUpAndIn(server.url);
});
afterAll(async () => {
  await server?.close();
});

const now = (): number => Math.floor(server.clock.now() / 1000);
async function withClaims(changes: Record<string, number>): Promise<number> {
  const { kid, privateKey } = await currentSigningKey(server.app.sessiond.store);
  const { header, payload } = decodeParts(grant.access_token);
  const token = signWith(privateKey, { ...header, kid }, { ...payload, ...changes });
  return (await request(server.url, 'GET', '/api/auth/session/status', { token })).status;
}

it('accepts a token issued by a node whose clock is a few seconds ahead', async () => {
  expect(await withClaims({ iat: now() + 5 })).toBe(200);
});

it('still refuses a token issued far in the future', async () => {
  expect(await withClaims({ iat: now() + 60 })).toBe(401);
});

it('gives no leeway on expiry: a token is never accepted past its exp', async () => {
  expect(await withClaims({ exp: now() })).toBe(401);
  expect(await withClaims({ exp: now() - 1 })).toBe(401);
});

it('accepts a token until its exp, not some seconds early', async () => {
  expect(await withClaims({ exp: now() + 2 })).toBe(200);
});
