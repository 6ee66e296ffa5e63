import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import type { WebhookBody, WebhookEventType } from '@sessiond/protocol';
import { Webhook, WebhookVerificationError } from 'standardwebhooks';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { buildApp } from '../src/app.js';
import { loadConfig } from '../src/config.js';
import { WebhookStore } from '../src/webhooks/webhook-store.js';
import { refresh, request, signIn, signUpAndIn } from './helpers/api.js';
import { demandStepUp } from './helpers/step-up.js';
import { TestClock } from './helpers/test-clock.js';
import { freePort, startTestServer, TEST_SECRET, type TestServer } from './helpers/test-server.js';

const SECRET = `whsec_${randomBytes(32).toString('base64')}`;
const SECOND = 1000;
const MINUTE = 60 * SECOND;
const DAY = 24 * 60 * MINUTE;

/** One request as the receiver saw it, checked with the reference Standard Webhooks library. */
interface Received {
  id: string;
  headers: IncomingHttpHeaders;
  raw: string;
  body: WebhookBody;
  /** The status it was answered with; undefined while (or if never) answered. */
  status: number | undefined;
  /** Why verification failed, if it did. */
  invalid?: string;
}

type Answer = 'ok' | 'fail' | 'redirect' | 'hang';

/** A real webhook endpoint on loopback: answers 204, 500, 307 or nothing, as the test says. */
class Receiver {
  readonly requests: Received[] = [];
  answer: Answer = 'ok';
  readonly #server: Server;

  private constructor(server: Server) {
    this.#server = server;
  }

  static async start(port = 0): Promise<Receiver> {
    const server = createServer();
    const receiver = new Receiver(server);
    server.on('request', (req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (chunk: Buffer) => chunks.push(chunk));
      req.on('end', () => {
        const raw = Buffer.concat(chunks).toString('utf8');
        const received: Received = {
          id: String(req.headers['webhook-id']),
          headers: req.headers,
          raw,
          body: JSON.parse(raw) as WebhookBody,
          status: undefined,
        };
        try {
          new Webhook(SECRET).verify(raw, req.headers as Record<string, string>);
        } catch (error) {
          received.invalid = String(error);
        }
        receiver.requests.push(received);
        if (receiver.answer === 'hang') return;
        received.status = { ok: 204, fail: 500, redirect: 307 }[receiver.answer];
        // A 307 keeps the method and body: were it followed, the same POST would come back here.
        if (receiver.answer === 'redirect') res.setHeader('location', req.url ?? '/');
        res.statusCode = received.status;
        res.end();
      });
    });
    await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve));
    return receiver;
  }

  get url(): string {
    return `http://127.0.0.1:${(this.#server.address() as AddressInfo).port}/hooks?token=receiver-query-secret`;
  }

  /** Requests answered 2xx: what the endpoint has accepted. */
  get accepted(): Received[] {
    return this.requests.filter((received) => received.status === 204);
  }

  acceptedFor(userId: string): Received[] {
    return this.accepted.filter((received) => received.body.data.user_id === userId);
  }

  async close(): Promise<void> {
    this.#server.closeAllConnections();
    await new Promise<void>((resolve) => this.#server.close(() => resolve()));
  }
}

/** Polls `probe` until it returns something truthy (webhooks are delivered in the background). */
async function until<T>(probe: () => T | undefined | false | Promise<T | undefined | false>): Promise<T> {
  const deadline = Date.now() + 5000;
  for (;;) {
    const value = await probe();
    if (value) return value;
    if (Date.now() > deadline) throw new Error('timed out waiting for webhooks');
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

/** A short real pause, to show that nothing happens without a reason (no clock move, no wake). */
const settle = () => new Promise((resolve) => setTimeout(resolve, 150));

/**
 * Waits until the server has recorded `attempts` failures at an endpoint's head (the receiver
 * hears an attempt before the server has scheduled its retry).
 */
async function failuresRecorded(server: TestServer, endpoint: string, attempts: number): Promise<void> {
  const store = new WebhookStore(server.app.sessiond.database);
  await until(async () => (await store.findCursor(endpoint))?.attempts === attempts);
}

function webhookEnv(urls: string[], extra: Record<string, string> = {}): Record<string, string> {
  return {
    SESSIOND_WEBHOOK_URLS: urls.join(','),
    SESSIOND_WEBHOOK_SECRET: SECRET,
    SESSIOND_WEBHOOK_RETRY_BASE_SECONDS: '1',
    SESSIOND_WEBHOOK_RETRY_MAX_SECONDS: '8',
    ...extra,
  };
}

const types = (received: Received[]): WebhookEventType[] => received.map((r) => r.body.type);
const logIds = (received: Received[]): number[] => received.map((r) => Number(r.id.replace(/^msg_/, '')));

/** Every accepted message once: no id twice, and ids (log order) rising. */
function expectOnceInOrder(received: Received[]): void {
  const ids = logIds(received);
  expect(new Set(ids).size).toBe(ids.length);
  expect([...ids].sort((a, b) => a - b)).toEqual(ids);
}

describe('lifecycle events reach the endpoint, signed', () => {
  let receiver: Receiver;
  let server: TestServer;
  beforeAll(async () => {
    receiver = await Receiver.start();
    server = await startTestServer({ env: webhookEnv([receiver.url]) });
  });
  afterAll(async () => {
    await server.close();
    await receiver.close();
  });

  it('each event type arrives once, in log order, with its data', async () => {
    // One user agent throughout: a change mid-session would be a risk signal (its own step-up).
    const first = await signUpAndIn(server.url, { device: { name: 'Phone' } });
    const userId = first.session.user_id;
    // Not lifecycle events: a failed sign-in, a grace-window answer.
    await request(server.url, 'POST', '/api/auth/session/create', {
      body: { email: first.email, password: 'not the password' },
    });
    const rotated = await refresh(server.url, first.refresh_token);
    expect(rotated.status).toBe(200);
    expect((await refresh(server.url, first.refresh_token)).status).toBe(200);
    await demandStepUp(server, first.session.id, 'unusual_location');
    const second = await signIn(server.url, first.email, { device: { id: first.device.id } });
    await request(server.url, 'POST', '/api/auth/session/logout', { token: second.access_token });
    const third = await signIn(server.url, first.email, { device: { id: first.device.id } });
    // By the session itself: the flagged one may not end another (step-up applies).
    const revoked = await request(server.url, 'POST', '/api/auth/session/revoke', {
      token: third.access_token,
      body: { session_id: third.session.id },
    });
    expect(revoked.status).toBe(200);
    server.clock.advance(11 * SECOND);
    expect((await refresh(server.url, first.refresh_token)).body.error).toBe('refresh_token_reused');

    const expected: WebhookEventType[] = [
      'session.created',
      'device.new',
      'session.refreshed',
      'session.step_up_required',
      'session.created',
      'session.revoked',
      'session.created',
      'session.revoked',
      'refresh_token.reused',
    ];
    const received = await until(() => {
      const mine = receiver.acceptedFor(userId);
      return mine.length >= expected.length && mine;
    });
    expect(types(received)).toEqual(expected);
    expectOnceInOrder(received);
    for (const message of received) {
      expect(message.invalid).toBeUndefined();
      expect(message.id).toMatch(/^msg_\d+$/);
      expect(message.headers['content-type']).toBe('application/json');
      expect(message.body.timestamp).toBe(message.body.data.at);
    }
    const [created, deviceNew, refreshed, stepUp, created2, logout, , revoke, reused] = received.map(
      (message) => message.body,
    );
    const firstSubject = { user_id: userId, session_id: first.session.id, device_id: first.device.id };
    expect(created!.data).toEqual({
      ...firstSubject,
      ip: '127.0.0.1',
      user_agent: 'node',
      actor: null,
      reason: null,
      at: first.session.created_at,
    });
    expect(deviceNew!.data).toMatchObject({ ...firstSubject, ip: '127.0.0.1', user_agent: 'node' });
    expect(refreshed!.data).toMatchObject({ ...firstSubject, actor: null, reason: null });
    expect(stepUp!.data).toMatchObject({ ...firstSubject, actor: 'system', reason: 'unusual_location' });
    expect(created2!.data).toMatchObject({ session_id: second.session.id, device_id: first.device.id });
    expect(logout!.data).toMatchObject({ session_id: second.session.id, actor: 'user', reason: 'logout' });
    expect(revoke!.data).toMatchObject({ session_id: third.session.id, actor: 'user', reason: 'revoked' });
    expect(reused!.data).toMatchObject({
      ...firstSubject,
      ip: '127.0.0.1',
      actor: 'system',
      reason: 'refresh_token_reused',
    });
    expect(Date.parse(reused!.data.at)).toBe(server.clock.now());
    await until(async () => (await server.app.sessiond.webhooks.backlog()) === 0);
  });

  it('signatures verify with the secret only, over the exact body, stamped with real time', async () => {
    const grant = await signUpAndIn(server.url);
    const [message] = await until(() => {
      const mine = receiver.requests.filter((r) => r.body.data.session_id === grant.session.id);
      return mine.length > 0 && mine;
    });
    const headers = message!.headers as Record<string, string>;
    expect(headers['webhook-signature']).toMatch(/^v1,[A-Za-z0-9+/]+=*$/);
    // The app's clock is moved by tests; the signature timestamp is what the receiver checks.
    expect(Math.abs(Number(headers['webhook-timestamp']) - Date.now() / 1000)).toBeLessThan(60);
    expect(new Webhook(SECRET).verify(message!.raw, headers)).toEqual(message!.body);
    const otherSecret = `whsec_${randomBytes(32).toString('base64')}`;
    expect(() => new Webhook(otherSecret).verify(message!.raw, headers)).toThrow(WebhookVerificationError);
    // A different last character (an id ending in 0 would make replacing it with 0 a no-op).
    const altered = grant.session.id.replace(/.$/, (last) => (last === '0' ? '1' : '0'));
    const tampered = message!.raw.replace(grant.session.id, altered);
    expect(tampered).not.toBe(message!.raw);
    expect(() => new Webhook(SECRET).verify(tampered, headers)).toThrow(WebhookVerificationError);
    expect(() =>
      new Webhook(SECRET).verify(message!.raw, { ...headers, 'webhook-id': 'msg_999999999' }),
    ).toThrow(WebhookVerificationError);
  });
});

describe('endpoints that are down', () => {
  let flaky: Receiver;
  let late: Receiver | undefined;
  let latePort: number;
  let server: TestServer;
  let logs = '';
  beforeAll(async () => {
    flaky = await Receiver.start();
    // Nothing listens here yet: connections are refused until the test starts a receiver on it.
    latePort = await freePort();
    const destination = new PassThrough();
    destination.on('data', (chunk) => {
      logs += chunk;
    });
    server = await startTestServer({
      env: webhookEnv([flaky.url, `http://127.0.0.1:${latePort}/hooks`], {
        SESSIOND_WEBHOOK_TIMEOUT_MS: '300',
        SESSIOND_LOG_LEVEL: 'info',
      }),
      logDestination: destination,
    });
  });
  afterAll(async () => {
    await server.close();
    await flaky.close();
    await late?.close();
  });

  const wake = () => server.app.sessiond.webhooks.wake();

  it('a failing endpoint is retried with exponential backoff, the same message first, then the rest in order', async () => {
    flaky.answer = 'fail';
    const grant = await signUpAndIn(server.url);
    expect((await refresh(server.url, grant.refresh_token)).status).toBe(200);
    const [attempt1] = await until(() => flaky.requests.length >= 1 && flaky.requests);
    expect(attempt1!.body.type).toBe('session.created');
    expect(attempt1!.status).toBe(500);
    await failuresRecorded(server, flaky.url, 1);

    // Backoff after 1 failure: 0.5-1 s of the server's clock. Not before, whatever wakes it.
    wake();
    await settle();
    expect(flaky.requests).toHaveLength(1);
    server.clock.advance(1 * SECOND);
    wake();
    const attempt2 = await until(() => flaky.requests[1]);
    expect(attempt2.id).toBe(attempt1!.id);
    expect(attempt2.raw).toBe(attempt1!.raw);
    await failuresRecorded(server, flaky.url, 2);

    // After 2 failures: 1-2 s. 999 ms is too soon.
    server.clock.advance(999);
    wake();
    await settle();
    expect(flaky.requests).toHaveLength(2);
    server.clock.advance(1001);
    wake();
    expect((await until(() => flaky.requests[2])).id).toBe(attempt1!.id);
    await failuresRecorded(server, flaky.url, 3);

    // After 3 failures: 2-4 s. Then the endpoint recovers and gets the head, then the rest.
    flaky.answer = 'ok';
    server.clock.advance(4 * SECOND);
    wake();
    const accepted = await until(() => flaky.accepted.length >= 3 && flaky.accepted);
    expect(types(accepted)).toEqual(['session.created', 'device.new', 'session.refreshed']);
    expect(accepted[0]!.id).toBe(attempt1!.id);
    expectOnceInOrder(accepted);
    expect(flaky.requests.every((received) => received.invalid === undefined)).toBe(true);

    // The other endpoint still refuses connections: all three wait for it, nothing is lost.
    expect(await server.app.sessiond.webhooks.backlog()).toBe(3);
    late = await Receiver.start(latePort);
    // Its retries went on meanwhile, each scheduled up to 8 s (the cap) ahead: move past them.
    const lateAccepted = await until(() => {
      server.clock.advance(8 * SECOND);
      wake();
      return late!.accepted.length >= 3 && late!.accepted;
    });
    expect(lateAccepted.map((received) => received.id)).toEqual(accepted.map((received) => received.id));
    expect(lateAccepted.map((received) => received.raw)).toEqual(accepted.map((received) => received.raw));
    await until(async () => (await server.app.sessiond.webhooks.backlog()) === 0);

    expect(logs).toContain('"error":"HTTP 500"');
    expect(logs).toContain('"error":"ECONNREFUSED"');
  });

  it('a request without an answer within the timeout fails and is sent again', async () => {
    flaky.answer = 'hang';
    const before = flaky.requests.length;
    const grant = await signUpAndIn(server.url);
    const hung = await until(() => flaky.requests[before]);
    expect(hung.body.data.session_id).toBe(grant.session.id);
    await until(() => logs.includes(`"webhook_id":"${hung.id}"`) && logs.includes('"error":"timeout"'));
    flaky.answer = 'ok';
    server.clock.advance(1 * SECOND);
    wake();
    const again = await until(() => flaky.accepted.find((received) => received.id === hung.id));
    expect(again.raw).toBe(hung.raw);
    // The sign-in's other message (device.new) lands too, before the next test counts requests.
    await until(
      () =>
        flaky.accepted.filter((received) => received.body.data.session_id === grant.session.id).length === 2,
    );
  });

  it('a redirect is a failure, not followed', async () => {
    flaky.answer = 'redirect';
    const before = flaky.requests.length;
    const grant = await signUpAndIn(server.url);
    const redirected = await until(() => flaky.requests[before]);
    expect(redirected.body.data.session_id).toBe(grant.session.id);
    expect(redirected.status).toBe(307);
    await failuresRecorded(server, flaky.url, 1);
    await settle();
    expect(flaky.requests).toHaveLength(before + 1);
    flaky.answer = 'ok';
    server.clock.advance(1 * SECOND);
    wake();
    await until(() => flaky.accepted.some((received) => received.id === redirected.id));
  });

  it('never logs the secret, the signatures or the endpoint query', async () => {
    expect(logs).toContain('webhook delivery failed');
    const secretKey = SECRET.slice('whsec_'.length);
    expect(logs).not.toContain(secretKey);
    for (const received of [...flaky.requests, ...(late?.requests ?? [])]) {
      const signature = String(received.headers['webhook-signature']).slice('v1,'.length);
      expect(logs).not.toContain(signature);
    }
    expect(logs).not.toContain('receiver-query-secret');
  });
});

describe('restarts', () => {
  let receiver: Receiver;
  let server: TestServer;
  beforeAll(async () => {
    receiver = await Receiver.start();
    server = await startTestServer({ env: webhookEnv([receiver.url]) });
  });
  afterAll(async () => {
    await server.close();
    await receiver.close();
  });
  afterEach(() => {
    receiver.answer = 'ok';
  });

  it('a restart in the middle of a delivery loses nothing, and redelivers under the same id', async () => {
    receiver.answer = 'hang';
    const grant = await signUpAndIn(server.url);
    const userId = grant.session.user_id;
    const rotated = await refresh(server.url, grant.refresh_token);
    await request(server.url, 'POST', '/api/auth/session/logout', { token: rotated.body.access_token });
    const inFlight = await until(() => receiver.requests.find((r) => r.body.data.user_id === userId));
    expect(inFlight.status).toBeUndefined();

    receiver.answer = 'ok';
    await server.restart();
    await signIn(server.url, grant.email, { device: { id: grant.device.id } });

    const received = await until(() => {
      const mine = receiver.acceptedFor(userId);
      return mine.length >= 5 && mine;
    });
    expect(types(received)).toEqual([
      'session.created',
      'device.new',
      'session.refreshed',
      'session.revoked',
      'session.created',
    ]);
    expect(received[0]!.id).toBe(inFlight.id);
    expect(received[0]!.raw).toBe(inFlight.raw);
    expectOnceInOrder(received);
    await until(async () => (await server.app.sessiond.webhooks.backlog()) === 0);
  });

  it('a retry scheduled before a restart keeps its time after it', async () => {
    receiver.answer = 'fail';
    const grant = await signUpAndIn(server.url);
    const failed = await until(() =>
      receiver.requests.find((r) => r.body.data.session_id === grant.session.id),
    );
    expect(failed.status).toBe(500);
    await failuresRecorded(server, receiver.url, 1);
    const attempts = () => receiver.requests.filter((r) => r.id === failed.id).length;
    receiver.answer = 'ok';
    await server.restart();
    server.app.sessiond.webhooks.wake();
    await settle();
    expect(attempts()).toBe(1);
    server.clock.advance(1 * SECOND);
    server.app.sessiond.webhooks.wake();
    await until(() => receiver.accepted.some((r) => r.id === failed.id));
    expect(attempts()).toBe(2);
  });
});

describe('an endpoint added later', () => {
  it('starts at the newest log row: it hears what happens from then on, not the history', async () => {
    const receiver = await Receiver.start();
    const clock = new TestClock();
    const dataDir = mkdtempSync(join(tmpdir(), 'sessiond-webhooks-'));
    const start = async (env: Record<string, string>) => {
      const config = loadConfig({
        SESSIOND_DATA_DIR: dataDir,
        SESSIOND_PORT: '0',
        SESSIOND_SECRET: TEST_SECRET,
        SESSIOND_LOG_LEVEL: 'silent',
        SESSIOND_ISSUER: 'http://sessiond.test',
        ...env,
      });
      const app = await buildApp({ config, clock });
      return { app, url: await app.listen({ host: '127.0.0.1', port: 0 }) };
    };
    try {
      const before = await start({});
      const old = await signUpAndIn(before.url);
      await before.app.close();

      const after = await start(webhookEnv([receiver.url]));
      try {
        const grant = await signIn(after.url, old.email, { device: { id: old.device.id } });
        const received = await until(() => receiver.accepted.length >= 1 && receiver.accepted);
        await settle();
        expect(receiver.requests).toHaveLength(1);
        expect(received[0]!.body).toMatchObject({
          type: 'session.created',
          data: { session_id: grant.session.id },
        });
      } finally {
        await after.app.close();
      }
    } finally {
      rmSync(dataDir, { recursive: true, force: true });
      await receiver.close();
    }
  });
});

describe('expiry', () => {
  let receiver: Receiver;
  let server: TestServer;
  beforeAll(async () => {
    receiver = await Receiver.start();
    server = await startTestServer({ env: webhookEnv([receiver.url]) });
  });
  afterAll(async () => {
    await server.close();
    await receiver.close();
  });

  const op = (token: string, body: Record<string, unknown>) =>
    request(server.url, 'POST', '/api/state/cart/ops', { token, body });

  it('session.idle_expired says whether the cart holds items', async () => {
    const shopper = await signUpAndIn(server.url);
    expect(
      (
        await op(shopper.access_token, {
          client_op_id: 'add-1',
          op: 'increment',
          path: ['items', 'sku-1', 'qty'],
          value: 1,
        })
      ).status,
    ).toBe(200);
    const emptied = await signUpAndIn(server.url);
    await op(emptied.access_token, {
      client_op_id: 'add-1',
      op: 'increment',
      path: ['items', 'sku-1', 'qty'],
      value: 1,
    });
    await op(emptied.access_token, { client_op_id: 'del-1', op: 'delete', path: ['items', 'sku-1'] });
    const browser = await signUpAndIn(server.url);

    server.clock.advance(31 * MINUTE);
    await server.app.sessiond.sweeper.sweep();

    const expiries = await until(() => {
      const found = receiver.accepted.filter((r) => r.body.type === 'session.idle_expired');
      return found.length >= 3 && found;
    });
    const bySession = new Map(expiries.map((r) => [r.body.data.session_id, r.body]));
    expect(bySession.get(shopper.session.id)).toMatchObject({
      type: 'session.idle_expired',
      data: { reason: 'idle_timeout', actor: 'system', ip: null, cart_has_items: true },
    });
    expect(bySession.get(emptied.session.id)?.data).toMatchObject({ cart_has_items: false });
    expect(bySession.get(browser.session.id)?.data).toMatchObject({ cart_has_items: false });
    expect(receiver.accepted.some((r) => r.body.type === 'session.expired')).toBe(false);
  });

  it('an absolute timeout is session.expired', async () => {
    const grant = await signUpAndIn(server.url);
    server.clock.advance(15 * DAY);
    // Noticed by a request this time, not the sweeper.
    expect((await refresh(server.url, grant.refresh_token)).body.error).toBe('session_expired');
    const expired = await until(() =>
      receiver.accepted.find(
        (r) => r.body.type === 'session.expired' && r.body.data.session_id === grant.session.id,
      ),
    );
    expect(expired.body.data).toMatchObject({ reason: 'absolute_timeout', actor: 'system' });
    // Signed with the real time although the server's clock is two weeks ahead.
    expect(expired.invalid).toBeUndefined();
    expect(
      receiver.accepted.filter((r) => r.body.data.session_id === grant.session.id).map((r) => r.body.type),
    ).toEqual(['session.created', 'device.new', 'session.expired']);
  });
});

describe('configuration', () => {
  const base = { SESSIOND_DATA_DIR: '/tmp/unused', SESSIOND_SECRET: TEST_SECRET };

  it('refuses endpoints without a signing secret, endpoints that are not http(s) URLs and bad secrets', () => {
    expect(() => loadConfig({ ...base, SESSIOND_WEBHOOK_URLS: 'https://app.example/hooks' })).toThrow(
      /SESSIOND_WEBHOOK_SECRET: required when SESSIOND_WEBHOOK_URLS is set/,
    );
    expect(() =>
      loadConfig({
        ...base,
        SESSIOND_WEBHOOK_URLS: 'https://app.example/hooks,ftp://files.example',
        SESSIOND_WEBHOOK_SECRET: SECRET,
      }),
    ).toThrow(/ftp:\/\/files.example is not an http: or https: URL/);
    expect(() => loadConfig({ ...base, SESSIOND_WEBHOOK_SECRET: 'whsec_not base64!' })).toThrow(
      /SESSIOND_WEBHOOK_SECRET: must be whsec_ followed by base64/,
    );
    expect(() =>
      loadConfig({
        ...base,
        SESSIOND_WEBHOOK_RETRY_BASE_SECONDS: '60',
        SESSIOND_WEBHOOK_RETRY_MAX_SECONDS: '30',
      }),
    ).toThrow(/SESSIOND_WEBHOOK_RETRY_MAX_SECONDS: must not be shorter/);
  });

  it('reads the endpoints (each once) and the retry settings', () => {
    const config = loadConfig({
      ...base,
      SESSIOND_WEBHOOK_URLS: 'https://a.example/h, https://b.example/h,https://a.example/h',
      SESSIOND_WEBHOOK_SECRET: SECRET,
    });
    expect(config.webhookURLs).toEqual(['https://a.example/h', 'https://b.example/h']);
    expect(config).toMatchObject({
      webhookRetryBaseSeconds: 5,
      webhookRetryMaxSeconds: 3600,
      webhookTimeoutMs: 10_000,
    });
  });
});
