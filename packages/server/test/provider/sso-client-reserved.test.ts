import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PASSWORD, request, uniqueEmail } from '../helpers/api.js';
import { BACKEND_ENV, backendCall } from '../helpers/backend.js';
import { startTestServer, type TestServer } from '../helpers/test-server.js';

/**
 * Only sessiond's sign-in page opens sessions of its own client `sessiond` (the SSO session that
 * authorizes apps at /oauth/authorize). An app naming that client anywhere it may name one would
 * get a session the provider trusts as the browser's sign-in at sessiond.
 */
let server: TestServer;
beforeAll(async () => {
  server = await startTestServer({ env: BACKEND_ENV });
});
afterAll(async () => {
  await server.close();
});

describe("sessiond's own client id", () => {
  it('is refused wherever an app names a client_id', async () => {
    const email = uniqueEmail();
    await request(server.url, 'POST', '/api/auth/signup', { body: { email, password: PASSWORD } });
    const signIn = await request(server.url, 'POST', '/api/auth/session/create', {
      body: { email, password: PASSWORD, client_id: 'sessiond' },
    });
    expect(signIn.status).toBe(400);
    expect(signIn.body.error).toBe('invalid_request');

    const passkey = await request(server.url, 'POST', '/api/auth/passkeys/sign-in', {
      body: {
        ceremony_id: 'c',
        client_id: 'sessiond',
        response: {
          id: 'AA',
          rawId: 'AA',
          type: 'public-key',
          response: { clientDataJSON: 'AA', authenticatorData: 'AA', signature: 'AA' },
          clientExtensionResults: {},
        },
      },
    });
    expect(passkey.status).toBe(400);
    expect(passkey.body).toMatchObject({ error: 'invalid_request' });
    expect(String(passkey.body.message)).toContain("sessiond's own client");

    const backend = await backendCall(server.url, 'POST', '/api/backend/sessions', {
      body: { user: { external_id: `ext-${Date.now()}` }, client_id: 'sessiond' },
    });
    expect(backend.status).toBe(400);
    expect(backend.body.error).toBe('invalid_request');
    expect(await server.app.sessiond.store.countLiveSessions(server.clock.now())).toBe(0);
  });
});
