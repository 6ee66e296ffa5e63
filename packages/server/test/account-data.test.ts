import { createECDH, randomBytes } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { TokenResponse } from '@sessiond/protocol';
import { sql } from 'kysely';
import { TOTP } from 'otpauth';
import { Webhook } from 'standardwebhooks';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { PasskeyStore } from '../src/passkeys/passkey-store.js';
import { UserErasedError } from '../src/store/session-store.js';
import { PASSWORD, request, signIn, signUpAndIn } from './helpers/api.js';
import { BACKEND_ENV, backendCall, backendSession } from './helpers/backend.js';
import { letPasswordCountAgain } from './helpers/step-up.js';
import { openSync } from './helpers/sync-socket.js';
import { startTestServer, type TestServer } from './helpers/test-server.js';

const ADMIN_KEY = 'admin-key-0123456789abcdef0123456789';
const WEBHOOK_SECRET = `whsec_${randomBytes(32).toString('base64')}`;
const PHONE_UA = 'Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) Mobile/15E148';
const LAPTOP_UA = 'Mozilla/5.0 (X11; Linux x86_64) Firefox/128.0';

interface Hook {
  type: string;
  timestamp: string;
  data: Record<string, unknown>;
}

/** A real webhook endpoint that verifies each delivery's signature and keeps its body. */
async function startReceiver(): Promise<{ url: string; hooks: Hook[]; close(): Promise<void> }> {
  const hooks: Hook[] = [];
  const verifier = new Webhook(WEBHOOK_SECRET);
  const server: Server = createServer((req, res) => {
    let raw = '';
    req.on('data', (chunk) => {
      raw += chunk;
    });
    req.on('end', () => {
      hooks.push(verifier.verify(raw, req.headers as Record<string, string>) as Hook);
      res.writeHead(204).end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/hooks`,
    hooks,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}

async function until<T>(probe: () => T | undefined | false | Promise<T | undefined | false>): Promise<T> {
  const deadline = Date.now() + 5000;
  for (;;) {
    const value = await probe();
    if (value) return value;
    if (Date.now() > deadline) throw new Error('timed out');
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

type Row = Record<string, unknown>;

/** Every row of a table, through the server's own database connection (SQLite or PostgreSQL). */
async function rows(server: TestServer, table: string, where = ''): Promise<Row[]> {
  const result = await sql<Row>`SELECT * FROM ${sql.table(table)} ${sql.raw(where)}`.execute(
    server.app.sessiond.database.db,
  );
  // The app's connection maps column names to camelCase; back to the tables' own names.
  const snake = (key: string): string => key.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`);
  return result.rows.map((row) => Object.fromEntries(Object.entries(row).map(([k, v]) => [snake(k), v])));
}

const ofUser = (id: string): string => `WHERE user_id = '${id.replace(/'/g, "''")}'`;

/** A user with two sessions (phone, laptop), a cart, a TOTP factor, a passkey and a backend link. */
async function seedUser(server: TestServer): Promise<{
  email: string;
  userId: string;
  phone: TokenResponse;
  laptop: TokenResponse;
  totp: TOTP;
  totpSecret: string;
}> {
  const phone = await signUpAndIn(server.url, {
    device: { id: 'phone-0001', name: 'My phone' },
    userAgent: PHONE_UA,
  });
  const laptop = await signIn(server.url, phone.email, {
    device: { id: 'laptop-0001', name: 'Laptop' },
    userAgent: LAPTOP_UA,
  });
  const userId = phone.session.user_id;
  const op = await request(server.url, 'POST', '/api/state/cart/ops', {
    token: phone.access_token,
    body: { client_op_id: 'op-1', op: 'set', path: ['items', 'sku-1'], value: { qty: 2 } },
  });
  expect(op.status).toBe(200);
  // A real TOTP factor, enrolled as the API does it (the secret sealed under the master secret).
  const user = await server.app.sessiond.store.findUserById(userId);
  if (!user) throw new Error('no user');
  const { secret } = await server.app.sessiond.totp.enroll(user);
  const totp = new TOTP({ secret, digits: 6, period: 30, algorithm: 'SHA1' });
  const pending = await server.app.sessiond.store.findUserById(userId);
  if (!pending) throw new Error('no user');
  await server.app.sessiond.totp.confirm(pending, totp.generate({ timestamp: server.clock.now() }), {
    action: 'totp_enrolled',
    success: true,
    userId,
    ip: '127.0.0.1',
    userAgent: PHONE_UA,
    detail: { replaced: false },
    createdAt: server.clock.now(),
  });
  await new PasskeyStore(server.app.sessiond.database).add(
    {
      id: 'cred-AAAA',
      userId,
      publicKey: 'PASSKEY-PUBLIC-KEY-MARKER',
      counter: 0,
      transports: ['internal'],
      aaguid: null,
      deviceType: 'multiDevice',
      backedUp: true,
      name: 'iCloud Keychain',
      createdAt: server.clock.now(),
      lastUsedAt: null,
    },
    {
      action: 'passkey_registered',
      success: true,
      userId,
      ip: '127.0.0.1',
      userAgent: PHONE_UA,
      detail: { passkey_id: 'cred-AAAA' },
      createdAt: server.clock.now(),
    },
  );
  // Web Push on the phone, with a preference (slice D's tables).
  const browserKey = createECDH('prime256v1');
  browserKey.generateKeys();
  const subscribed = await request(server.url, 'POST', '/api/auth/push/subscription', {
    token: phone.access_token,
    body: {
      endpoint: 'https://push.example/send/abc',
      keys: {
        p256dh: browserKey.getPublicKey().toString('base64url'),
        auth: randomBytes(16).toString('base64url'),
      },
    },
  });
  expect(subscribed.status).toBe(201);
  const preferences = await request(server.url, 'PUT', '/api/auth/push/preferences', {
    token: phone.access_token,
    body: { enabled: true },
  });
  expect(preferences.status).toBe(200);
  // The backend links its own id for this user (and opens a session with a custom claim).
  await backendSession(server.url, {
    user: { id: userId, external_id: 'shop-42' },
    claims: { plan: 'gold' },
    ip: '203.0.113.9',
    user_agent: 'ShopBackend/1.0',
  });
  return { email: phone.email, userId, phone, laptop, totp, totpSecret: secret };
}

describe('account export and erasure (decision 036)', () => {
  let server: TestServer;
  let receiver: Awaited<ReturnType<typeof startReceiver>>;

  beforeEach(async () => {
    receiver = await startReceiver();
    server = await startTestServer({
      env: {
        ...BACKEND_ENV,
        SESSIOND_ADMIN_API_KEYS: ADMIN_KEY,
        SESSIOND_WEBHOOK_URLS: receiver.url,
        SESSIOND_WEBHOOK_SECRET: WEBHOOK_SECRET,
      },
    });
  });

  afterEach(async () => {
    await server.close();
    await receiver.close();
  });

  it('exports everything held about the user as one JSON download, with no secret or hash in it', async () => {
    const { email, userId, phone, laptop, totpSecret } = await seedUser(server);
    const response = await fetch(new URL('/api/auth/me/export', server.url), {
      headers: { authorization: `Bearer ${laptop.access_token}` },
    });
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toMatch(/^application\/json/);
    expect(response.headers.get('content-disposition')).toBe(
      `attachment; filename="sessiond-export-${userId}.json"`,
    );
    expect(response.headers.get('cache-control')).toBe('no-store');
    const text = await response.text();
    const body = JSON.parse(text);

    expect(body.format).toBe('sessiond.account_export.v1');
    expect(body.account).toMatchObject({
      id: userId,
      email,
      factors: { password: true, totp: true, passkeys: 1 },
    });
    expect(body.sessions).toHaveLength(3);
    const byDevice = new Map(body.sessions.map((s: Row) => [s.device_id, s]));
    expect(byDevice.get(phone.session.device_id)).toMatchObject({
      id: phone.session.id,
      ip: '127.0.0.1',
      user_agent: PHONE_UA,
      ended_at: null,
    });
    expect(body.sessions.find((s: Row) => s.user_agent === 'ShopBackend/1.0')).toMatchObject({
      ip: '203.0.113.9',
      claims: { plan: 'gold' },
    });
    // The backend's session opened a third device, unnamed.
    expect(body.devices.map((d: Row) => d.name)).toEqual(
      expect.arrayContaining(['Laptop', 'My phone', null]),
    );
    expect(body.devices).toHaveLength(3);
    const actions = body.audit_log.map((l: Row) => l.action);
    expect(actions).toEqual(expect.arrayContaining(['login', 'new_device_login', 'totp_enrolled']));
    expect(body.audit_log).toHaveLength((await rows(server, 'session_logs', ofUser(userId))).length);
    expect(body.state).toEqual([
      expect.objectContaining({
        namespace: 'cart',
        document: { items: { 'sku-1': { qty: 2 } } },
        version: 1,
      }),
    ]);
    expect(body.passkeys).toEqual([expect.objectContaining({ id: 'cred-AAAA', name: 'iCloud Keychain' })]);
    expect(body.passkeys[0]).not.toHaveProperty('public_key');
    expect(body.linked_identities).toEqual([
      expect.objectContaining({ source: 'backend:app', subject: 'shop-42' }),
    ]);

    // No secret and no hash: every one stored for this user, looked up in the tables.
    const [user] = await rows(server, 'users', `WHERE id = '${userId}'`);
    const secrets = [
      String(user?.password_hash),
      String(user?.totp_secret_sealed),
      totpSecret,
      'PASSKEY-PUBLIC-KEY-MARKER',
      PASSWORD,
      phone.refresh_token,
      laptop.refresh_token,
      phone.access_token,
      String(phone.device.secret),
      ...(await rows(server, 'devices', ofUser(userId))).map((d) => String(d.secret_hash)),
      ...(await rows(server, 'refresh_tokens')).map((t) => String(t.token_hash)),
    ];
    expect(secrets.length).toBeGreaterThan(9);
    for (const secret of secrets) expect(secret.length).toBeGreaterThan(8);
    for (const secret of secrets) expect(text).not.toContain(secret);
    expect(text).not.toMatch(/\$argon2/);
    expect(text).not.toMatch(/sealed|secret_hash|token_hash|public_key/);

    // The same document for an operator and a backend, by id; nobody's for an unknown id.
    const admin = await request(server.url, 'GET', `/api/admin/users/${userId}/export`, { token: ADMIN_KEY });
    expect(admin.status).toBe(200);
    expect(admin.headers.get('content-disposition')).toMatch(/^attachment; /);
    expect((admin.body as Row).account).toEqual(body.account);
    const backend = await backendCall(server.url, 'GET', `/api/backend/users/${userId}/export`);
    expect(backend.status).toBe(200);
    expect((backend.body as Row).sessions).toHaveLength(3);
    const unknown = await request(server.url, 'GET', '/api/admin/users/nobody/export', { token: ADMIN_KEY });
    expect(unknown.status).toBe(404);
    expect(unknown.body).toMatchObject({ error: 'user_not_found' });
    expect((await request(server.url, 'GET', '/api/auth/me/export')).status).toBe(401);
    const noKey = await request(server.url, 'GET', `/api/admin/users/${userId}/export`, { token: 'wrong' });
    expect(noKey.status).toBe(401);
  });

  it('DELETE /api/auth/me needs a fresh re-authentication, then erases: sessions dead at once, data gone, the log pseudonymised', async () => {
    const { email, userId, phone, laptop, totp } = await seedUser(server);
    const bystander = await signUpAndIn(server.url, { userAgent: LAPTOP_UA });
    // Everything the erasure must delete is there before it.
    for (const table of ['push_subscriptions', 'push_preferences', 'devices', 'passkeys', 'user_links']) {
      expect({ table, some: (await rows(server, table, ofUser(userId))).length > 0 }).toEqual({
        table,
        some: true,
      });
    }
    const socket = await openSync(server.url, { token: phone.access_token });
    await socket.next('ready');

    // An access token alone never erases an account.
    const refused = await request(server.url, 'DELETE', '/api/auth/me', { token: laptop.access_token });
    expect(refused.status).toBe(401);
    expect(refused.body).toMatchObject({ error: 'reauthentication_required' });
    expect(await server.app.sessiond.store.findUserById(userId)).toBeDefined();

    // The user has TOTP: the step-up must be with it.
    letPasswordCountAgain(server);
    const steppedUp = await stepUpWithTOTP(server, laptop, totp);
    const logsBefore = await rows(server, 'session_logs', `${ofUser(userId)} ORDER BY id`);
    const erased = await request(server.url, 'DELETE', '/api/auth/me', { token: steppedUp.access_token });
    expect(erased.status).toBe(200);
    expect(erased.body).toEqual({ user_id: userId, erased: true, sessions_revoked: 3 });

    // The other device's socket is closed at once, and no token of the account works any more.
    await socket.closed;
    for (const token of [phone.access_token, laptop.access_token, steppedUp.access_token]) {
      const status = await request(server.url, 'GET', '/api/auth/session/status', { token });
      expect(status.status).toBe(401);
    }
    for (const token of [phone.refresh_token, steppedUp.refresh_token]) {
      const refreshed = await request(server.url, 'POST', '/api/auth/session/refresh', {
        body: { refresh_token: token },
      });
      expect(refreshed.status).toBe(401);
    }
    // Erasing again, or exporting, finds nobody.
    expect(
      (await request(server.url, 'DELETE', '/api/auth/me', { token: steppedUp.access_token })).status,
    ).toBe(401);
    const gone = await request(server.url, 'GET', `/api/admin/users/${userId}/export`, { token: ADMIN_KEY });
    expect(gone.status).toBe(404);

    // The old email signs in to nothing, and can sign up anew as a different user.
    const oldSignIn = await request(server.url, 'POST', '/api/auth/session/create', {
      body: { email, password: PASSWORD },
    });
    expect(oldSignIn.status).toBe(401);
    expect(oldSignIn.body).toMatchObject({ error: 'invalid_credentials' });
    const again = await signUpAndIn(server.url, { email });
    expect(again.session.user_id).not.toBe(userId);

    await expectErasedRows(server, userId, { logsBefore, sessions: 3, actor: 'user' });

    // The bystander's rows are untouched.
    const theirs = await rows(server, 'session_logs', ofUser(bystander.session.user_id));
    expect(theirs.length).toBeGreaterThan(0);
    expect(theirs.every((row) => row.ip === '127.0.0.1' && row.user_agent === LAPTOP_UA)).toBe(true);
    expect(await rows(server, 'devices', ofUser(bystander.session.user_id))).toHaveLength(1);

    // The webhook arrives, after the sessions' own revocations, with nothing personal in it.
    const hook = await until(() => receiver.hooks.find((h) => h.type === 'user.erased'));
    expect(hook.data).toMatchObject({
      user_id: userId,
      actor: 'user',
      ip: null,
      user_agent: null,
      sessions_revoked: 3,
      session_id: steppedUp.session.id,
    });
    const revoked = receiver.hooks.filter((h) => h.type === 'session.revoked' && h.data.user_id === userId);
    expect(revoked.map((h) => h.data.reason)).toEqual(['user_erased', 'user_erased', 'user_erased']);
    expect(receiver.hooks.indexOf(hook)).toBeGreaterThan(receiver.hooks.indexOf(revoked[2] as Hook));
  });

  it('operators and backends erase by id; a second erasure, or an unknown id, is 404', async () => {
    const first = await seedUser(server);
    const logsBefore = await rows(server, 'session_logs', `${ofUser(first.userId)} ORDER BY id`);
    const byAdmin = await request(server.url, 'DELETE', `/api/admin/users/${first.userId}`, {
      token: ADMIN_KEY,
    });
    expect(byAdmin.status).toBe(200);
    expect(byAdmin.body).toEqual({ user_id: first.userId, erased: true, sessions_revoked: 3 });
    await expectErasedRows(server, first.userId, { logsBefore, sessions: 3, actor: 'admin' });
    const twice = await request(server.url, 'DELETE', `/api/admin/users/${first.userId}`, {
      token: ADMIN_KEY,
    });
    expect(twice.status).toBe(404);
    expect(twice.body).toMatchObject({ error: 'user_not_found' });
    const sessionsOf = await request(server.url, 'GET', `/api/admin/users/${first.userId}/sessions`, {
      token: ADMIN_KEY,
    });
    expect(sessionsOf.status).toBe(404);
    expect(
      (await request(server.url, 'GET', '/api/auth/session/status', { token: first.phone.access_token }))
        .status,
    ).toBe(401);

    // A sign-in that read the account before the erasure committed gets no session afterwards.
    const ended = await server.app.sessiond.store.findSession(first.phone.session.id);
    if (!ended) throw new Error('no session');
    await expect(
      server.app.sessiond.store.createSession({
        session: { ...ended, id: 'late-session', endedAt: null, endReason: null },
        refreshToken: { id: 'late-token', sessionId: 'late-session', tokenHash: 'late-hash', createdAt: 0 },
        logs: [],
      }),
    ).rejects.toBeInstanceOf(UserErasedError);
    expect(await rows(server, 'sessions', "WHERE id = 'late-session'")).toEqual([]);

    const second = await seedUser(server);
    const beforeSecond = await rows(server, 'session_logs', `${ofUser(second.userId)} ORDER BY id`);
    const byBackend = await backendCall(server.url, 'DELETE', `/api/backend/users/${second.userId}`);
    expect(byBackend.status).toBe(200);
    expect(byBackend.body).toMatchObject({ user_id: second.userId, erased: true, sessions_revoked: 3 });
    await expectErasedRows(server, second.userId, {
      logsBefore: beforeSecond,
      sessions: 3,
      actor: 'backend',
    });
    // The backend's external id names nobody now; using it again provisions a new user.
    const lookup = await backendCall(server.url, 'GET', '/api/backend/users?external_id=shop-42');
    expect(lookup.status).toBe(404);
    expect((await backendCall(server.url, 'DELETE', '/api/backend/users/nobody')).status).toBe(404);
    // A backend can no longer open a session for the erased id.
    const reopen = await backendCall(server.url, 'POST', '/api/backend/sessions', {
      body: { user: { id: second.userId } },
    });
    expect(reopen.status).toBe(404);

    const hooks = await until(() => {
      const found = receiver.hooks.filter((h) => h.type === 'user.erased');
      return found.length === 2 && found;
    });
    expect(hooks.map((h) => h.data.actor)).toEqual(['admin', 'backend']);
  });
});

async function stepUpWithTOTP(server: TestServer, tokens: TokenResponse, totp: TOTP): Promise<TokenResponse> {
  const response = await request<TokenResponse>(server.url, 'POST', '/api/auth/session/step-up', {
    token: tokens.access_token,
    body: { totp: totp.generate({ timestamp: server.clock.now() }) },
  });
  if (response.status !== 200) throw new Error(`step-up failed: ${JSON.stringify(response.body)}`);
  return response.body;
}

/** Exactly what an erasure leaves of a user, table by table. */
async function expectErasedRows(
  server: TestServer,
  userId: string,
  expected: { logsBefore: Row[]; sessions: number; actor: string },
): Promise<void> {
  const [tombstone] = await rows(server, 'users', `WHERE id = '${userId}'`);
  expect(tombstone).toMatchObject({
    id: userId,
    email: `~${userId}`,
    password_hash: '',
    totp_secret_sealed: null,
    totp_enabled_at: null,
    totp_pending_sealed: null,
    totp_last_step: null,
  });
  expect(Number(tombstone?.erased_at)).toBe(server.clock.now());
  for (const table of [
    'push_subscriptions',
    'push_preferences',
    'devices',
    'passkeys',
    'state_documents',
    'state_operations',
    'state_cursors',
    'user_links',
    'ceremonies',
    'oidc_login_codes',
    'authorization_codes',
  ]) {
    expect({ table, rows: await rows(server, table, ofUser(userId)) }).toEqual({ table, rows: [] });
  }
  // Sessions stay, ended and stripped, for the revocation stream's backlog.
  const sessions = await rows(server, 'sessions', ofUser(userId));
  expect(sessions).toHaveLength(expected.sessions);
  for (const session of sessions) {
    expect(session).toMatchObject({
      ip: null,
      user_agent: null,
      location: null,
      claims: null,
      end_reason: 'user_erased',
    });
    expect(Number(session.ended_at)).toBe(server.clock.now());
  }
  const ids = sessions.map((s) => `'${String(s.id)}'`).join(',');
  const tokens = await rows(server, 'refresh_tokens', `WHERE session_id IN (${ids})`);
  expect(tokens.length).toBeGreaterThanOrEqual(expected.sessions);
  expect(tokens.every((t) => t.status === 'revoked' && t.successor_sealed === null)).toBe(true);

  // The log keeps every row, in order, with its action and time; address, user agent and
  // personal detail are gone; the sessions' revocations and the erasure are appended.
  const logs = await rows(server, 'session_logs', `${ofUser(userId)} ORDER BY id`);
  const before = expected.logsBefore;
  expect(logs.slice(0, before.length).map((l) => [Number(l.id), l.action, Number(l.created_at)])).toEqual(
    before.map((l) => [Number(l.id), l.action, Number(l.created_at)]),
  );
  const added = logs.slice(before.length);
  expect(added.map((l) => l.action)).toEqual([
    ...Array.from({ length: expected.sessions }, () => 'session_revoked'),
    'user_erased',
  ]);
  expect(added.every((l) => l.actor === expected.actor)).toBe(true);
  expect(JSON.parse(String(added.at(-1)?.detail))).toMatchObject({ sessions_revoked: expected.sessions });
  for (const log of logs) {
    expect(log).toMatchObject({ user_id: userId, ip: null, user_agent: null });
    const detail = log.detail === null ? {} : (JSON.parse(String(log.detail)) as Row);
    expect(Object.keys(detail)).not.toContain('passkey_id');
    expect(Object.keys(detail)).not.toContain('ip');
  }
  // Rows that carried only personal detail keep their other details (the login's risk verdict).
  const login = logs.find((l) => l.action === 'login');
  expect(JSON.parse(String(login?.detail))).toHaveProperty('risk');
}
