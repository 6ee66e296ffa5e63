import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { backchannelCursorKey } from '../../src/provider/backchannel-logout.js';
import { WebhookStore } from '../../src/webhooks/webhook-store.js';
import { refresh, request, signUpAndIn } from '../helpers/api.js';
import { startTestServer, type TestServer } from '../helpers/test-server.js';
import {
  BACKCHANNEL_EVENT,
  headerOf,
  LogoutReceiver,
  logoutClients,
  openSession,
  openSSOSession,
  settle,
  until,
  verifyLogoutToken,
} from './logout-helpers.js';

const ADMIN_KEY = `sk_admin_${'L'.repeat(43)}`;
const SHOP = '/shop/backchannel';
const BLOG = '/blog/backchannel';
const SECOND = 1000;
const MINUTE = 60 * SECOND;

let receiver: LogoutReceiver;
let server: TestServer;

beforeAll(async () => {
  receiver = await LogoutReceiver.start();
  server = await startTestServer({
    env: {
      SESSIOND_CLIENTS: logoutClients(receiver),
      SESSIOND_ADMIN_API_KEYS: ADMIN_KEY,
      SESSIOND_WEBHOOK_RETRY_BASE_SECONDS: '1',
      SESSIOND_WEBHOOK_RETRY_MAX_SECONDS: '8',
    },
  });
});
afterAll(async () => {
  await server.close();
  await receiver.close();
});
afterEach(() => {
  receiver.failing = false;
});

/** The verified logout token for session `sid` at `path`, once it has arrived. */
async function logoutFor(path: string, clientId: string, sid: string) {
  return until(async () => {
    for (const received of receiver.accepted(path)) {
      const claims = await verifyLogoutToken(server, received.token, clientId);
      if (claims.sid === sid) return { claims, received };
    }
    return undefined;
  }, `a logout token for ${sid}`);
}

/** Every verified token at `path` naming `sid`. */
async function tokensFor(path: string, clientId: string, sid: string) {
  const all = await Promise.all(
    receiver.accepted(path).map((r) => verifyLogoutToken(server, r.token, clientId)),
  );
  return all.filter((claims) => claims.sid === sid);
}

describe('a logout token for each way an app session ends', () => {
  it('logout: a signed logout+jwt with the spec claims, form-encoded', async () => {
    const user = await signUpAndIn(server.url);
    const app = await openSession(server, user.email, { clientId: 'shop' });
    const out = await request(server.url, 'POST', '/api/auth/session/logout', { token: app.access.token });
    expect(out.status).toBe(200);
    const { claims, received } = await logoutFor(SHOP, 'shop', app.session.id);
    expect(received.contentType).toBe('application/x-www-form-urlencoded');
    expect(headerOf(received.token)).toMatchObject({ alg: 'RS256', typ: 'logout+jwt' });
    expect(claims.sub).toBe(user.session.user_id);
    expect(claims.aud).toBe('shop');
    expect(claims.events).toEqual({ [BACKCHANNEL_EVENT]: {} });
    expect(claims.exp! - claims.iat!).toBe(120);
    expect(typeof claims.jti).toBe('string');
  });

  it('revoke by the user from another session, and revoke-all', async () => {
    const user = await signUpAndIn(server.url);
    const revoked = await openSession(server, user.email, { clientId: 'shop' });
    const first = await request(server.url, 'POST', '/api/auth/session/revoke', {
      token: user.access_token,
      body: { session_id: revoked.session.id },
    });
    expect(first.body).toMatchObject({ revoked: true });
    await logoutFor(SHOP, 'shop', revoked.session.id);

    const shop = await openSession(server, user.email, { clientId: 'shop' });
    const blog = await openSession(server, user.email, { clientId: 'blog' });
    const all = await request(server.url, 'POST', '/api/auth/session/revoke-all', {
      token: user.access_token,
      body: { keep_current: true },
    });
    expect(all.status).toBe(200);
    await logoutFor(SHOP, 'shop', shop.session.id);
    await logoutFor(BLOG, 'blog', blog.session.id);
  });

  it('admin revoke', async () => {
    const user = await signUpAndIn(server.url);
    const app = await openSession(server, user.email, { clientId: 'blog' });
    const revoked = await request(server.url, 'POST', `/api/admin/sessions/${app.session.id}/revoke`, {
      headers: { authorization: `Bearer ${ADMIN_KEY}`, 'content-type': 'application/json' },
      body: '{}',
    });
    expect(revoked.body).toMatchObject({ revoked: true });
    const { claims } = await logoutFor(BLOG, 'blog', app.session.id);
    expect(claims.sub).toBe(user.session.user_id);
  });

  it('refresh-token reuse', async () => {
    const user = await signUpAndIn(server.url);
    const app = await openSession(server, user.email, { clientId: 'shop' });
    expect((await refresh(server.url, app.refreshToken)).status).toBe(200);
    server.clock.advance(30 * SECOND); // past the grace window
    const reused = await refresh(server.url, app.refreshToken);
    expect(reused.body.error).toBe('refresh_token_reused');
    await logoutFor(SHOP, 'shop', app.session.id);
  });

  it('idle expiry, found by the sweeper on the test clock', async () => {
    const user = await signUpAndIn(server.url);
    const app = await openSession(server, user.email, { clientId: 'blog' });
    server.clock.advance(31 * MINUTE);
    expect(await server.app.sessiond.sweeper.sweep()).toBeGreaterThan(0);
    await logoutFor(BLOG, 'blog', app.session.id);
  });

  it('the SSO session ending cascades: each app under it gets its own sid, others nothing', async () => {
    const user = await signUpAndIn(server.url);
    const sso = await openSSOSession(server, user.email);
    const shop = await openSession(server, user.email, { clientId: 'shop', ssoSessionId: sso.session.id });
    const blog = await openSession(server, user.email, { clientId: 'blog', ssoSessionId: sso.session.id });
    const plain = await openSession(server, user.email, { clientId: 'plain', ssoSessionId: sso.session.id });
    const elsewhere = await openSession(server, user.email, { clientId: 'shop' });
    const revoked = await request(server.url, 'POST', `/api/admin/sessions/${sso.session.id}/revoke`, {
      headers: { authorization: `Bearer ${ADMIN_KEY}`, 'content-type': 'application/json' },
      body: '{}',
    });
    expect(revoked.body).toMatchObject({ revoked: true });
    const atShop = await logoutFor(SHOP, 'shop', shop.session.id);
    const atBlog = await logoutFor(BLOG, 'blog', blog.session.id);
    expect(atShop.claims.sid).not.toBe(atBlog.claims.sid);
    const { store } = server.app.sessiond;
    expect((await store.findSession(plain.session.id))?.endReason).toBe('sso_session_ended');
    expect((await store.findSession(elsewhere.session.id))?.endedAt).toBeNull();
    // The apps' refresh tokens are refused.
    expect((await refresh(server.url, shop.refreshToken)).body.error).toBe('session_revoked');
    await settle();
    // Nothing for the SSO session itself, the session outside it, or a client without a URI.
    const sids = new Set(
      await Promise.all(
        [...receiver.accepted(SHOP), ...receiver.accepted(BLOG)].map(async (r) => {
          const aud = r.path === SHOP ? 'shop' : 'blog';
          return (await verifyLogoutToken(server, r.token, aud)).sid;
        }),
      ),
    );
    expect(sids.has(sso.session.id)).toBe(false);
    expect(sids.has(elsewhere.session.id)).toBe(false);
    expect(sids.has(plain.session.id)).toBe(false);
    expect(receiver.received.every((r) => r.path === SHOP || r.path === BLOG)).toBe(true);
  });

  it('no token for sessions of clients without a back-channel URI', async () => {
    const user = await signUpAndIn(server.url);
    const plain = await openSession(server, user.email, { clientId: 'plain' });
    const before = receiver.received.length;
    await request(server.url, 'POST', '/api/auth/session/logout', { token: plain.access.token });
    await request(server.url, 'POST', '/api/auth/session/logout', { token: user.access_token });
    // A later logout of a shop session arrives, so the dispatcher has passed over the rows above.
    const shop = await openSession(server, user.email, { clientId: 'shop' });
    await server.app.sessiond.ending.revoke(shop.session, { reason: 'admin', actor: 'admin', context: null });
    await logoutFor(SHOP, 'shop', shop.session.id);
    expect(receiver.received.slice(before).map((r) => r.path)).toEqual([SHOP]);
  });
});

describe('delivery', () => {
  it('a 500 is retried with backoff until the receiver answers 200, signed afresh each time', async () => {
    receiver.failing = true;
    const user = await signUpAndIn(server.url);
    const app = await openSession(server, user.email, { clientId: 'blog' });
    const before = receiver.received.length;
    await request(server.url, 'POST', '/api/auth/session/logout', { token: app.access.token });
    const cursors = new WebhookStore(server.app.sessiond.database);
    await until(async () => (await cursors.findCursor(backchannelCursorKey('blog')))?.attempts === 1);
    expect((await cursors.findCursor(backchannelCursorKey('blog')))?.lastError).toBe('HTTP 500');
    const metrics = await (await fetch(`${server.url}/metrics`)).text();
    expect(Number(/^sessiond_backchannel_logout_backlog (\d+)$/m.exec(metrics)?.[1])).toBeGreaterThan(0);
    // Not before its retry time.
    await settle();
    expect(receiver.received.length - before).toBe(1);
    server.clock.advance(1 * SECOND);
    server.app.sessiond.backchannelLogout.wake();
    await until(async () => (await cursors.findCursor(backchannelCursorKey('blog')))?.attempts === 2);
    receiver.failing = false;
    server.clock.advance(2 * SECOND);
    server.app.sessiond.backchannelLogout.wake();
    await logoutFor(BLOG, 'blog', app.session.id);
    const attempts = receiver.received.slice(before).filter((r) => r.path === BLOG);
    expect(attempts.map((r) => r.status)).toEqual([500, 500, 200]);
    expect(new Set(attempts.map((r) => r.token)).size).toBe(3);
    expect(await tokensFor(BLOG, 'blog', app.session.id)).toHaveLength(1);
    await until(
      async () => (await server.app.sessiond.backchannelLogout.backlog()) === 0,
      'an empty backlog',
    );
  });

  it('a pending logout token survives a restart', async () => {
    receiver.failing = true;
    const user = await signUpAndIn(server.url);
    const app = await openSession(server, user.email, { clientId: 'shop' });
    await request(server.url, 'POST', '/api/auth/session/logout', { token: app.access.token });
    const cursors = () => new WebhookStore(server.app.sessiond.database);
    await until(async () => ((await cursors().findCursor(backchannelCursorKey('shop')))?.attempts ?? 0) >= 1);
    await server.restart();
    receiver.failing = false;
    server.clock.advance(10 * SECOND);
    server.app.sessiond.backchannelLogout.wake();
    await logoutFor(SHOP, 'shop', app.session.id);
    expect(await tokensFor(SHOP, 'shop', app.session.id)).toHaveLength(1);
  });
});
