import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { pushMessageFor } from '../../server/src/push/push-notifications.js';
import { startTestServer, type TestServer } from '../../server/test/helpers/test-server.js';
import { launchChromium } from './browser/chromium.js';

// Web Push in Debian's Chromium, offline (decision 037). A service worker registers, and the
// notification permission can be granted; `pushManager.subscribe` cannot succeed: Chromium's
// push service is Google's (Firebase Cloud Messaging, through GCM registration), and this build
// has neither its API keys nor a network to reach it, so the subscription is refused. What this
// test checks is exactly that refusal, and the part that does work without a push service: a push
// delivered to the worker by DevTools (ServiceWorker.deliverPushMessage) is shown by the
// @sessiond/client/push-sw handlers as sessiond's notification.

const HELPER = fileURLToPath(new URL('../dist/push-sw.js', import.meta.url));

const PAGE = `<!doctype html><meta charset="utf-8"><title>push</title><script type="module">
  window.ready = navigator.serviceWorker.register('/push-test/sw.js', { type: 'module', scope: '/push-test/' })
    .then(() => navigator.serviceWorker.ready);
</script>`;

const WORKER = `import { installPushHandlers } from '/push-test/push-sw.js';
const post = (data) => self.clients.matchAll({ includeUncontrolled: true })
  .then((clients) => clients.forEach((c) => c.postMessage(data)));
// For the test: whether showing the notification succeeded.
const show = self.registration.showNotification.bind(self.registration);
self.registration.showNotification = (title, options) =>
  show(title, options).then(() => post({ shown: title, options }), (error) => { post({ error: String(error) }); throw error; });
installPushHandlers(self);
// For the test: what the worker received, and whether showing it failed.
self.addEventListener('push', (event) => {
  event.waitUntil(self.registration.getNotifications().then(() => self.clients.matchAll({ includeUncontrolled: true }))
    .then((clients) => clients.forEach((c) => c.postMessage({ push: event.data ? event.data.text() : null }))));
});
self.addEventListener('activate', (event) => event.waitUntil(self.clients.claim()));`;

let server: TestServer;
let browser: Browser;
beforeAll(async () => {
  browser = await launchChromium();
  server = await startTestServer({
    routes: (app) => {
      app.get('/push-test/', (_request, reply) => reply.type('text/html').send(PAGE));
      app.get('/push-test/sw.js', (_request, reply) => reply.type('text/javascript').send(WORKER));
      app.get('/push-test/push-sw.js', (_request, reply) =>
        reply.type('text/javascript').send(readFileSync(HELPER, 'utf8')),
      );
    },
  });
});
afterAll(async () => {
  await browser?.close();
  await server?.close();
});

it('registers the worker; subscribe is refused offline; a delivered push shows sessiond’s notification', async () => {
  const origin = new URL(server.url).origin;
  const context = await browser.newContext();
  await context.grantPermissions(['notifications'], { origin });
  const page = await context.newPage();
  const cdp = await context.newCDPSession(page);
  const registrations = new Map<string, string>();
  cdp.on('ServiceWorker.workerRegistrationUpdated', (event) => {
    for (const r of event.registrations) registrations.set(r.scopeURL, r.registrationId);
  });
  await cdp.send('ServiceWorker.enable');
  await page.goto(`${origin}/push-test/`);
  const scope = await page.evaluate(async () => {
    const registration = await (window as unknown as { ready: Promise<ServiceWorkerRegistration> }).ready;
    return registration.scope;
  });
  expect(scope).toBe(`${origin}/push-test/`);
  expect(await page.evaluate(() => Notification.permission)).toBe('granted');

  const key = (await (await fetch(`${server.url}/api/auth/push/vapid-key`)).json()) as { public_key: string };
  const refusal = await page.evaluate(async (vapidKey) => {
    const registration = await navigator.serviceWorker.ready;
    const bytes = Uint8Array.from(atob(vapidKey.replace(/-/g, '+').replace(/_/g, '/') + '='), (c) =>
      c.charCodeAt(0),
    );
    const permission = await registration.pushManager.permissionState({ userVisibleOnly: true });
    try {
      const subscription = await registration.pushManager.subscribe({
        userVisibleOnly: true,
        applicationServerKey: bytes,
      });
      return { permission, subscribed: subscription.endpoint };
    } catch (error) {
      return { permission, name: (error as DOMException).name, message: (error as DOMException).message };
    }
  }, key.public_key);
  // Recorded on Debian's chromium: the Push API reports the permission as granted, and still
  // the registration with the push service fails (reported by Chromium as "permission denied").
  expect(refusal).toEqual({
    permission: 'granted',
    name: 'AbortError',
    message: 'Registration failed - permission denied',
  });

  // What sessiond would encrypt and push for a new sign-in, delivered straight to the worker.
  const message = pushMessageFor(
    {
      id: 42,
      userId: 'user-1',
      sessionId: 's',
      deviceId: 'laptop',
      action: 'new_device_login',
      success: true,
      error: null,
      ip: null,
      userAgent: null,
      actor: 'user',
      detail: null,
      createdAt: Date.now(),
    } as Parameters<typeof pushMessageFor>[0],
    'new_sign_in',
    undefined,
    { sessionsURL: 'https://shop.test/account/sessions', cartURL: undefined },
  );
  await page.evaluate(() => {
    (window as unknown as { got: unknown[] }).got = [];
    navigator.serviceWorker.addEventListener('message', (e) =>
      (window as unknown as { got: unknown[] }).got.push(e.data),
    );
  });
  await expect.poll(() => registrations.get(scope)).toBeDefined();
  await cdp.send('ServiceWorker.deliverPushMessage', {
    origin,
    registrationId: registrations.get(scope) as string,
    data: JSON.stringify(message.payload),
  });
  // The worker received the push, and the helper's showNotification resolved with sessiond's
  // notification. (getNotifications() in headless Chromium 156 sometimes lists nothing for a
  // notification shown a moment ago, about 1 run in 5 here: the resolved call is what we assert.)
  await expect
    .poll(() => page.evaluate(() => (window as unknown as { got: unknown[] }).got), { timeout: 10_000 })
    .toEqual(
      expect.arrayContaining([
        {
          shown: 'New sign-in on a new device — was this you?',
          options: {
            body: 'If it was not you, open your sessions and sign that one out.',
            tag: 'sessiond-sign-in-42',
            data: { sessiond: true, url: 'https://shop.test/account/sessions' },
          },
        },
      ]),
    );
  await context.close();
});
