import type { TokenResponse } from '@sessiond/protocol';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { refresh, request, signIn, signUpAndIn } from './helpers/api.js';
import { outboxesDrained } from './helpers/outboxes.js';
import { LocalPushService, type TestSubscription } from './helpers/push-service.js';
import { startTestServer, type TestServer } from './helpers/test-server.js';

// Web Push (issue 17, decision 037), end to end: sessiond subscribes a "browser" made here (its
// P-256 key pair and auth secret), pushes through a local push service that checks the VAPID
// JWT and decrypts the aes128gcm body with the subscription's private key.

const MINUTE = 60_000;
const SESSIONS_URL = 'https://shop.test/account/sessions';
const CART_URL = 'https://shop.test/cart';

let pushService: LocalPushService;
let server: TestServer;

beforeAll(async () => {
  pushService = await LocalPushService.start();
  server = await startTestServer({
    env: {
      SESSIOND_PUSH_ALLOW_HTTP_ENDPOINTS: 'true',
      SESSIOND_PUSH_SESSIONS_URL: SESSIONS_URL,
      SESSIOND_PUSH_CART_URL: CART_URL,
      SESSIOND_PUSH_LIMIT_PER_HOUR: '3',
      SESSIOND_VAPID_SUBJECT: 'mailto:ops@shop.test',
      SESSIOND_WEBHOOK_RETRY_BASE_SECONDS: '1',
      SESSIOND_WEBHOOK_RETRY_MAX_SECONDS: '4',
    },
  });
});
afterAll(async () => {
  await server?.close();
  await pushService?.close();
});

async function subscribe(token: string, subscription: TestSubscription): Promise<void> {
  const response = await request(server.url, 'POST', '/api/auth/push/subscription', {
    token,
    body: subscription.json(),
  });
  expect(response.status, JSON.stringify(response.body)).toBe(201);
}

/** A user signed in on a subscribed phone. */
async function userWithPhone(): Promise<{ email: string; phone: TokenResponse; sub: TestSubscription }> {
  const phone = await signUpAndIn(server.url, { device: { id: 'phone-0001', name: 'Phone' } });
  const sub = pushService.subscribe();
  await subscribe(phone.access_token, sub);
  return { email: phone.email, phone, sub };
}

/** Signs in on a new named device: a `new_device_login` row, which pushes to the other devices. */
function signInOnLaptop(email: string, name = 'Work laptop'): Promise<TokenResponse> {
  return signIn(server.url, email, { device: { name } });
}

async function vapidKey(): Promise<string> {
  const response = await request<{ public_key: string }>(server.url, 'GET', '/api/auth/push/vapid-key');
  expect(response.status).toBe(200);
  return response.body.public_key;
}

/** Moves the injected clock past retry times and wakes the dispatcher until `done` holds. */
async function driveRetries(done: () => boolean): Promise<void> {
  for (let i = 0; i < 200 && !done(); i += 1) {
    server.clock.advance(5_000);
    server.app.sessiond.push.dispatcher.wake();
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}

describe('keys and subscriptions', () => {
  it('serves one VAPID public key, generated once and sealed in the store, kept across restarts', async () => {
    const key = await vapidKey();
    expect(Buffer.from(key, 'base64url')).toHaveLength(65);
    await server.restart();
    expect(await vapidKey()).toBe(key);
  });

  it('keeps the endpoint and keys only sealed', async () => {
    const { sub } = await userWithPhone();
    const stored = await server.storedText();
    expect(stored).not.toContain(sub.keys.auth);
    expect(stored).not.toContain(sub.keys.p256dh);
    expect(stored).not.toContain(sub.endpoint);
  });

  it('refuses subscriptions that could never be pushed to, and anonymous callers', async () => {
    const user = await signUpAndIn(server.url);
    const good = pushService.subscribe().json();
    const cases: Array<[string, Record<string, unknown>]> = [
      ['not a URL', { ...good, endpoint: 'push-me' }],
      ['ftp endpoint', { ...good, endpoint: 'ftp://127.0.0.1/push/x' }],
      ['short key', { ...good, keys: { ...good.keys, p256dh: Buffer.alloc(33, 4).toString('base64url') } }],
      [
        'point off the curve',
        {
          ...good,
          keys: {
            ...good.keys,
            p256dh: Buffer.concat([Buffer.from([4]), Buffer.alloc(64, 7)]).toString('base64url'),
          },
        },
      ],
      ['auth of 8 bytes', { ...good, keys: { ...good.keys, auth: Buffer.alloc(8).toString('base64url') } }],
      ['no keys', { endpoint: good.endpoint }],
    ];
    for (const [what, body] of cases) {
      const response = await request(server.url, 'POST', '/api/auth/push/subscription', {
        token: user.access_token,
        body,
      });
      expect([what, response.status, response.body.error]).toEqual([what, 400, 'invalid_request']);
    }
    const anonymous = await request(server.url, 'POST', '/api/auth/push/subscription', { body: good });
    expect(anonymous.status).toBe(401);
  });

  it('refuses http: endpoints unless the test-only option allows them', async () => {
    const strict = await startTestServer();
    try {
      const user = await signUpAndIn(strict.url);
      const response = await request(strict.url, 'POST', '/api/auth/push/subscription', {
        token: user.access_token,
        body: pushService.subscribe().json(),
      });
      expect(response.status).toBe(400);
      expect(response.body.message).toContain('https:');
    } finally {
      await strict.close();
    }
  });

  it('one subscription per device: a new one replaces it; DELETE removes it', async () => {
    const { phone, sub } = await userWithPhone();
    const replacement = pushService.subscribe();
    await subscribe(phone.access_token, replacement);
    const laptop = await signInOnLaptop(phone.email);
    await pushService.waitFor(
      () => pushService.pushesTo(replacement).length === 1,
      'push to the replacement',
    );
    expect(pushService.pushesTo(sub)).toHaveLength(0);
    const status = await request(server.url, 'GET', '/api/auth/push/subscription', {
      token: phone.access_token,
    });
    expect(status.body).toMatchObject({ subscribed: true });
    const deleted = await request(server.url, 'DELETE', '/api/auth/push/subscription', {
      token: phone.access_token,
    });
    expect(deleted.body).toEqual({ deleted: true });
    // The laptop subscribes; a third device signs in: the laptop hears it, the phone (unsubscribed) not.
    const laptopSub = pushService.subscribe();
    await subscribe(laptop.access_token, laptopSub);
    await signInOnLaptop(phone.email, 'Tablet');
    await pushService.waitFor(() => pushService.pushesTo(laptopSub).length === 1, 'push to the laptop');
    expect(pushService.pushesTo(replacement)).toHaveLength(1);
  });

  it('an endpoint belongs to one user: subscribed by another, the first loses it', async () => {
    const first = await userWithPhone();
    const second = await signUpAndIn(server.url, { device: { id: 'phone-0001', name: 'Phone' } });
    await subscribe(second.access_token, first.sub);
    const status = await request(server.url, 'GET', '/api/auth/push/subscription', {
      token: first.phone.access_token,
    });
    expect(status.body).toMatchObject({ subscribed: false });
  });
});

describe('pushes', () => {
  it('a new-device sign-in: VAPID-signed, aes128gcm for the subscription, the sessions page, no token', async () => {
    const { email, sub } = await userWithPhone();
    const laptop = await signInOnLaptop(email);
    await pushService.waitFor(() => pushService.pushesTo(sub).length === 1, 'the new sign-in push');
    const [push] = pushService.pushesTo(sub);
    expect(push?.vapidKey).toBe(await vapidKey());
    expect(push?.claims).toMatchObject({ aud: pushService.origin, sub: 'mailto:ops@shop.test' });
    expect(push?.headers.urgency).toBe('high');
    expect(Number(push?.headers.ttl)).toBe(12 * 3600);
    expect(push?.headers.topic).toMatch(/^r\d+$/);
    expect(push?.payload).toMatchObject({
      v: 1,
      kind: 'new_sign_in',
      title: 'New sign-in on Work laptop — was this you?',
      url: SESSIONS_URL,
    });
    const text = JSON.stringify(push?.payload);
    expect(text).not.toContain(laptop.access_token);
    expect(text).not.toContain(laptop.refresh_token);
    expect(text).not.toContain(laptop.session.id);
  });

  it('an idle expiry with items in the cart: "Your cart is waiting" to that device; an empty cart: nothing', async () => {
    const shopper = await userWithPhone();
    const op = await request(server.url, 'POST', '/api/state/cart/ops', {
      token: shopper.phone.access_token,
      body: { client_op_id: 'add-1', op: 'increment', path: ['items', 'sku-1', 'qty'], value: 1 },
    });
    expect(op.status).toBe(200);
    const browser = await userWithPhone();
    server.clock.advance(31 * MINUTE);
    await server.app.sessiond.sweeper.sweep();
    await pushService.waitFor(() => pushService.pushesTo(shopper.sub).length === 1, 'the cart push');
    const [push] = pushService.pushesTo(shopper.sub);
    expect(push?.payload).toMatchObject({
      kind: 'cart_reminder',
      title: 'Your cart is waiting',
      url: CART_URL,
    });
    expect(push?.headers.urgency).toBe('normal');
    // The outbox is in order: a later push to the empty-cart user arrives after any cart push would.
    await signInOnLaptop(browser.email);
    await pushService.waitFor(() => pushService.pushesTo(browser.sub).length === 1, 'the later push');
    expect(pushService.pushesTo(browser.sub).map((p) => p.payload.kind)).toEqual(['new_sign_in']);
  });

  it('refresh-token reuse: every device of the user hears it', async () => {
    const { email, phone, sub } = await userWithPhone();
    const laptop = await signInOnLaptop(email);
    const laptopSub = pushService.subscribe();
    await subscribe(laptop.access_token, laptopSub);
    const rotated = await refresh(server.url, phone.refresh_token);
    expect(rotated.status).toBe(200);
    server.clock.advance(11_000);
    const reused = await refresh(server.url, phone.refresh_token);
    expect(reused.body.error).toBe('refresh_token_reused');
    const isReuse = (s: TestSubscription) => () =>
      pushService.pushesTo(s).some((p) => p.payload.kind === 'refresh_token_reused');
    await pushService.waitFor(() => isReuse(sub)() && isReuse(laptopSub)(), 'the reuse pushes');
    const push = pushService.pushesTo(laptopSub).find((p) => p.payload.kind === 'refresh_token_reused');
    expect(push?.payload).toMatchObject({ body: expect.stringContaining('Phone'), url: SESSIONS_URL });
  });

  it('opt-out: all kinds, or one kind, stops the pushes until turned back on', async () => {
    const { email, phone, sub } = await userWithPhone();
    const put = (body: Record<string, unknown>) =>
      request(server.url, 'PUT', '/api/auth/push/preferences', { token: phone.access_token, body });
    expect((await put({ enabled: false })).body).toEqual({
      preferences: {
        enabled: false,
        kinds: { cart_reminder: true, new_sign_in: true, refresh_token_reused: true },
      },
    });
    // Preferences are read when a row is delivered: let the outbox pass each silenced sign-in
    // before the next change, as time would.
    await signInOnLaptop(email, 'Silenced 1');
    await outboxesDrained(server);
    expect((await put({ enabled: true, kinds: { new_sign_in: false } })).body).toMatchObject({
      preferences: { enabled: true, kinds: { new_sign_in: false } },
    });
    await signInOnLaptop(email, 'Silenced 2');
    await outboxesDrained(server);
    expect((await put({ kinds: { new_sign_in: true } })).status).toBe(200);
    await signInOnLaptop(email, 'Heard');
    await pushService.waitFor(() => pushService.pushesTo(sub).length >= 1, 'the push after opting back in');
    expect(pushService.pushesTo(sub).map((p) => p.payload.title)).toEqual([
      'New sign-in on Heard — was this you?',
    ]);
    expect((await put({})).status).toBe(400);
    expect((await put({ kinds: { marketing: true } })).status).toBe(400);
  });

  it('rate limit: past SESSIOND_PUSH_LIMIT_PER_HOUR a user hears nothing more that hour', async () => {
    const { email, sub } = await userWithPhone();
    for (let i = 1; i <= 5; i += 1) await signInOnLaptop(email, `Device ${i}`);
    // Another user's push after all five rows: once it arrives, all five were handled.
    const other = await userWithPhone();
    await signInOnLaptop(other.email);
    await pushService.waitFor(() => pushService.pushesTo(other.sub).length === 1, 'the later push');
    expect(pushService.pushesTo(sub).map((p) => p.payload.title)).toEqual([
      'New sign-in on Device 1 — was this you?',
      'New sign-in on Device 2 — was this you?',
      'New sign-in on Device 3 — was this you?',
    ]);
    server.clock.advance(61 * MINUTE);
    await signInOnLaptop(email, 'Next hour');
    await pushService.waitFor(() => pushService.pushesTo(sub).length === 4, 'the push of the next hour');
  });

  it('a 410 from the push service drops the subscription', async () => {
    const { email, phone, sub } = await userWithPhone();
    pushService.script.set(sub.id, [410]);
    await signInOnLaptop(email);
    await pushService.waitFor(() => pushService.pushesTo(sub).length === 1, 'the refused push');
    await expect
      .poll(async () => {
        const status = await request(server.url, 'GET', '/api/auth/push/subscription', {
          token: phone.access_token,
        });
        return status.body.subscribed;
      })
      .toBe(false);
  });

  it('other failures are retried with backoff, then given up after SESSIOND_PUSH_MAX_ATTEMPTS', async () => {
    const flaky = await userWithPhone();
    pushService.script.set(flaky.sub.id, [503, 500]);
    await signInOnLaptop(flaky.email);
    await driveRetries(() => pushService.pushesTo(flaky.sub).length === 3);
    expect(pushService.pushesTo(flaky.sub).map((p) => p.status)).toEqual([503, 500, 201]);

    const broken = await userWithPhone();
    pushService.script.set(broken.sub.id, [500, 500, 500, 500, 500]);
    await signInOnLaptop(broken.email);
    const after = await userWithPhone();
    await signInOnLaptop(after.email);
    await driveRetries(() => pushService.pushesTo(after.sub).length === 1);
    // Three attempts (the default), then the queue moved on.
    expect(pushService.pushesTo(broken.sub).map((p) => p.status)).toEqual([500, 500, 500]);
    expect(pushService.pushesTo(after.sub)).toHaveLength(1);
    // The subscription stays: only 404/410 drop it.
    const status = await request(server.url, 'GET', '/api/auth/push/subscription', {
      token: broken.phone.access_token,
    });
    expect(status.body).toMatchObject({ subscribed: true });
  });

  it('the local push service refused nothing it was sent', () => {
    expect(pushService.refused).toEqual([]);
  });
});
