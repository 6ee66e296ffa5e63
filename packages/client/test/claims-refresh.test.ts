import { afterAll, beforeAll, expect, it } from 'vitest';
import WebSocket from 'ws';
import { PASSWORD, request, uniqueEmail } from '../../server/test/helpers/api.js';
import { BACKEND_ENV, backendCall } from '../../server/test/helpers/backend.js';
import { startTestServer, type TestServer } from '../../server/test/helpers/test-server.js';
import { createSessionClient } from '../src/session-client.js';
import { memoryStorage } from '../src/storage.js';
import type { WebSocketConstructor } from '../src/sync/sync-connection.js';

// Issue 13: when the app's backend changes a user's claims, a client with a sync socket hears
// session.claims_changed and refreshes at once, so its next request carries the new claims.
let server: TestServer;
beforeAll(async () => {
  server = await startTestServer({ issuerIsURL: true, env: BACKEND_ENV });
});
afterAll(async () => {
  await server.close();
});

const claimsOfBearer = (authorization: string | null): Record<string, unknown> =>
  JSON.parse(Buffer.from(String(authorization).split('.')[1] ?? '', 'base64url').toString());

it('refreshes when its claims change, and its next request carries them', async () => {
  const email = uniqueEmail();
  await request(server.url, 'POST', '/api/auth/signup', { body: { email, password: PASSWORD } });
  const sent: Array<string | null> = [];
  const client = createSessionClient({
    baseUrl: server.url,
    storage: memoryStorage(),
    webSocket: WebSocket as unknown as WebSocketConstructor,
    fetch: async (input, init) => {
      sent.push(new Headers(init?.headers).get('authorization'));
      return fetch(input, init);
    },
  });
  try {
    await client.signIn({ email, password: PASSWORD });
    const doc = client.sync('cart');
    await doc.ready;
    // Subscribed and caught up: the socket is open and hears this session's events.
    await new Promise<void>((resolve) => {
      const stop = doc.status.subscribe((status) => {
        if (!status.live) return;
        queueMicrotask(() => stop());
        resolve();
      });
    });
    const userId = client.state.get().user?.id;
    const refreshed = new Promise((resolve) => client.on('refreshed', resolve));
    const patched = await backendCall(server.url, 'PATCH', `/api/backend/users/${userId}/claims`, {
      body: { claims: { plan: 'pro' } },
    });
    expect(patched.status, JSON.stringify(patched.body)).toBe(200);
    await refreshed;
    sent.length = 0;
    expect((await client.fetch('/api/auth/session/status')).status).toBe(200);
    expect(claimsOfBearer(sent.at(-1) ?? null)).toMatchObject({ plan: 'pro' });
  } finally {
    client.close();
  }
});
