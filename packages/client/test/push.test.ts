import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PASSWORD, request, uniqueEmail } from '../../server/test/helpers/api.js';
import { LocalPushService, type TestSubscription } from '../../server/test/helpers/push-service.js';
import { startTestServer, type TestServer } from '../../server/test/helpers/test-server.js';
import type { PushRegistrationLike, PushSubscriptionLike } from '../src/push.js';
import { createSessionClient, type SessionClient } from '../src/session-client.js';

// client.push against a real sessiond and the local push service. The registration stands in for
// a browser's (Chromium cannot subscribe offline: see push-sw.browser.test.ts and decision 037);
// its subscription is a real key pair, so the pushes it gets are decrypted for real.

let server: TestServer;
let pushService: LocalPushService;
const clients: SessionClient[] = [];
beforeAll(async () => {
  pushService = await LocalPushService.start();
  server = await startTestServer({ env: { SESSIOND_PUSH_ALLOW_HTTP_ENDPOINTS: 'true' } });
});
afterAll(async () => {
  for (const client of clients) client.close();
  await server?.close();
  await pushService?.close();
});

/** A registration whose pushManager hands out `subscription`, recording how it was asked. */
function registrationFor(
  subscription: TestSubscription,
  existing?: { key: Uint8Array },
): PushRegistrationLike & { asked: Uint8Array[]; unsubscribed: number } {
  let current: PushSubscriptionLike | null = null;
  const make = (key: Uint8Array): PushSubscriptionLike => ({
    options: { applicationServerKey: key.slice().buffer },
    toJSON: () => subscription.json(),
    unsubscribe: async () => {
      registration.unsubscribed += 1;
      current = null;
      return true;
    },
  });
  if (existing) current = make(existing.key);
  const registration = {
    asked: [] as Uint8Array[],
    unsubscribed: 0,
    pushManager: {
      getSubscription: async () => current,
      subscribe: async (options: { userVisibleOnly: boolean; applicationServerKey: Uint8Array }) => {
        expect(options.userVisibleOnly).toBe(true);
        registration.asked.push(options.applicationServerKey);
        current = make(options.applicationServerKey);
        return current;
      },
    },
  };
  return registration;
}

async function signedIn(email: string, name: string): Promise<SessionClient> {
  const client = createSessionClient({ baseUrl: server.url });
  clients.push(client);
  await client.signIn({ email, password: PASSWORD, device: { name } });
  return client;
}

describe('client.push', () => {
  it('subscribes with the VAPID key, is pushed to, opts out, unsubscribes', async () => {
    const email = uniqueEmail();
    await request(server.url, 'POST', '/api/auth/signup', { body: { email, password: PASSWORD } });
    const phone = await signedIn(email, 'Phone');
    const sub = pushService.subscribe();
    const registration = registrationFor(sub);
    expect(await phone.push.subscribe(registration)).toEqual(sub.json());
    const key = await phone.push.vapidKey();
    expect(Buffer.from(registration.asked[0] ?? []).toString('base64url')).toBe(key);
    expect(await phone.push.status()).toMatchObject({ subscribed: true, preferences: { enabled: true } });

    await signedIn(email, 'Laptop');
    await pushService.waitFor(() => pushService.pushesTo(sub).length === 1, 'the new sign-in push');
    expect(pushService.pushesTo(sub)[0]?.payload.title).toBe('New sign-in on Laptop — was this you?');

    expect(await phone.push.setEnabled({ new_sign_in: false })).toMatchObject({
      enabled: true,
      kinds: { new_sign_in: false, cart_reminder: true },
    });
    expect((await phone.push.setEnabled(false)).enabled).toBe(false);
    expect(await phone.push.unsubscribe(registration)).toBe(true);
    expect(registration.unsubscribed).toBe(1);
    expect((await phone.push.status()).subscribed).toBe(false);
  });

  it('replaces a browser subscription made with another key', async () => {
    const email = uniqueEmail();
    await request(server.url, 'POST', '/api/auth/signup', { body: { email, password: PASSWORD } });
    const phone = await signedIn(email, 'Phone');
    const registration = registrationFor(pushService.subscribe(), { key: new Uint8Array(65).fill(4) });
    await phone.push.subscribe(registration);
    expect(registration.unsubscribed).toBe(1);
    expect(registration.asked).toHaveLength(1);
  });
});
