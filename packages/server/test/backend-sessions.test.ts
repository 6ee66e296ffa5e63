import type { TokenResponse } from '@sessiond/protocol';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PASSWORD, refresh, request, signUpAndIn, uniqueEmail } from './helpers/api.js';
import {
  BACKEND,
  BACKEND_ENV,
  backendCall,
  backendSession,
  basic,
  OTHER_BACKEND,
} from './helpers/backend.js';
import { setCookies } from './helpers/cookies.js';
import { decodeParts } from './helpers/forge.js';
import { openSync } from './helpers/sync-socket.js';
import { RESOURCE_SERVER, startTestServer, type TestServer } from './helpers/test-server.js';

let server: TestServer;
let counter = 0;
const externalId = (): string => `ext-${process.pid}-${Date.now()}-${++counter}`;
const claimsOf = (token: string): Record<string, unknown> => decodeParts(token).payload;

type Refusal = { error?: string; message?: string };

beforeAll(async () => {
  server = await startTestServer({ env: { ...BACKEND_ENV, SESSIOND_CUSTOM_CLAIMS_MAX_BYTES: '256' } });
});
afterAll(() => server.close());

describe('backend authentication (client_secret_basic)', () => {
  const routes: ReadonlyArray<[string, string]> = [
    ['POST', '/api/backend/sessions'],
    ['GET', '/api/backend/users?external_id=x'],
    ['GET', '/api/backend/users/u'],
    ['GET', '/api/backend/users/u/sessions'],
    ['PATCH', '/api/backend/users/u/claims'],
    ['POST', '/api/backend/users/u/revoke-all'],
    ['GET', '/api/backend/no-such-route'],
  ];
  const wrong: ReadonlyArray<[string, Record<string, string>]> = [
    ['no credentials', {}],
    ['a wrong secret', { authorization: basic(BACKEND.id, `${BACKEND.secret}x`) }],
    ['an unknown backend', { authorization: basic('nobody', BACKEND.secret) }],
    // A resource server's credentials are not a backend's.
    ['a resource server', { authorization: basic(RESOURCE_SERVER.id, RESOURCE_SERVER.secret) }],
    ['a bearer token', { authorization: `Bearer ${BACKEND.secret}` }],
  ];

  for (const [method, path] of routes) {
    it.each(wrong)(`refuses ${method} ${path} with %s: 401 invalid_client`, async (_what, headers) => {
      const response = await request<Refusal>(server.url, method, path, {
        headers,
        ...(method === 'GET' ? {} : { body: {} }),
      });
      expect(response.status).toBe(401);
      expect(response.body.error).toBe('invalid_client');
      expect(response.headers.get('www-authenticate')).toBe('Basic realm="sessiond"');
    });
  }
});

describe('POST /api/backend/sessions', () => {
  it('opens a session for a new external id: provisions the user, same TokenResponse as sign-in', async () => {
    const id = externalId();
    const grant = await backendSession(server.url, { user: { external_id: id }, amr: ['pwd', 'otp', 'mfa'] });
    expect(grant).toMatchObject({ token_type: 'Bearer', device: { new: true } });
    expect(grant.refresh_token).toMatch(/^rt_/);
    const claims = claimsOf(grant.access_token);
    expect(claims).toMatchObject({ acr: 'aal1', amr: ['pwd', 'otp', 'mfa'], sid: grant.session.id });
    const lookup = await backendCall<{ user: Record<string, unknown> }>(
      server.url,
      'GET',
      `/api/backend/users?external_id=${id}`,
    );
    expect(lookup.status).toBe(200);
    expect(lookup.body.user).toMatchObject({ id: claims.sub, external_id: id, email: null });
    // The same external id again: the same user.
    const again = await backendSession(server.url, { user: { external_id: id } });
    expect(claimsOf(again.access_token).sub).toBe(claims.sub);
    // The refresh token works like any other.
    const refreshed = await refresh(server.url, grant.refresh_token);
    expect(refreshed.status).toBe(200);
  });

  it('provisions one user for parallel first calls with one external id', async () => {
    const id = externalId();
    const grants = await Promise.all(
      Array.from({ length: 12 }, () => backendSession(server.url, { user: { external_id: id } })),
    );
    const subjects = new Set(grants.map((grant) => claimsOf(grant.access_token).sub));
    expect(subjects.size).toBe(1);
    const sessions = await backendCall<{ sessions: unknown[] }>(
      server.url,
      'GET',
      `/api/backend/users/${[...subjects][0]}/sessions`,
    );
    expect(sessions.body.sessions).toHaveLength(12);
  });

  it('keeps each backend to its own external ids', async () => {
    const id = externalId();
    const mine = await backendSession(server.url, { user: { external_id: id } });
    const theirs = await backendSession(server.url, { user: { external_id: id } }, { as: OTHER_BACKEND });
    expect(claimsOf(theirs.access_token).sub).not.toBe(claimsOf(mine.access_token).sub);
    const lookup = await backendCall(server.url, 'GET', `/api/backend/users?external_id=${externalId()}`, {
      as: OTHER_BACKEND,
    });
    expect(lookup.status).toBe(404);
    expect(lookup.body.error).toBe('user_not_found');
  });

  it('opens a session for an existing user by id, and 404 user_not_found for an unknown id', async () => {
    const password = await signUpAndIn(server.url);
    const sub = claimsOf(password.access_token).sub as string;
    const grant = await backendSession(server.url, { user: { id: sub } });
    expect(claimsOf(grant.access_token).sub).toBe(sub);
    const unknown = await backendCall(server.url, 'POST', '/api/backend/sessions', {
      body: { user: { id: 'no-such-user' } },
    });
    expect(unknown.status).toBe(404);
    expect(unknown.body.error).toBe('user_not_found');
  });

  it('never lets an email name or link a user', async () => {
    const password = await signUpAndIn(server.url);
    const alone = await backendCall(server.url, 'POST', '/api/backend/sessions', {
      body: { user: { email: password.email } },
    });
    expect(alone.status).toBe(400);
    expect(alone.body.error).toBe('invalid_request');
    expect(alone.body.message).toMatch(/email is only for provisioning/);
    // An external id with the email of an existing password account: refused, nothing provisioned.
    const id = externalId();
    const attach = await backendCall(server.url, 'POST', '/api/backend/sessions', {
      body: { user: { external_id: id, email: password.email } },
    });
    expect(attach.status).toBe(409);
    expect(attach.body.error).toBe('email_taken');
    const lookup = await backendCall(server.url, 'GET', `/api/backend/users?external_id=${id}`);
    expect(lookup.status).toBe(404);
    // A new email provisions a user holding it (and that user has no password to sign in with).
    const email = uniqueEmail();
    const fresh = await backendSession(server.url, { user: { external_id: id, email } });
    const found = await backendCall<{ user: { email: string } }>(
      server.url,
      'GET',
      `/api/backend/users?external_id=${id}`,
    );
    expect(found.body.user.email).toBe(email);
    expect(claimsOf(fresh.access_token).sub).toBe((found.body.user as unknown as { id: string }).id);
    const signIn = await request(server.url, 'POST', '/api/auth/session/create', {
      body: { email, password: PASSWORD },
    });
    expect(signIn.status).toBe(401);
  });

  it('links an external id to an existing user only by id, and refuses one that is taken', async () => {
    const password = await signUpAndIn(server.url);
    const sub = claimsOf(password.access_token).sub as string;
    const id = externalId();
    const linked = await backendSession(server.url, { user: { id: sub, external_id: id } });
    expect(claimsOf(linked.access_token).sub).toBe(sub);
    const byExternal = await backendSession(server.url, { user: { external_id: id } });
    expect(claimsOf(byExternal.access_token).sub).toBe(sub);
    // The same external id for another user: 409.
    const other = await signUpAndIn(server.url);
    const taken = await backendCall(server.url, 'POST', '/api/backend/sessions', {
      body: { user: { id: claimsOf(other.access_token).sub, external_id: id } },
    });
    expect(taken.status).toBe(409);
    expect(taken.body.error).toBe('external_id_taken');
    // A second external id for a user who has one here: 409.
    const second = await backendCall(server.url, 'POST', '/api/backend/sessions', {
      body: { user: { id: sub, external_id: externalId() } },
    });
    expect(second.status).toBe(409);
    expect(second.body.error).toBe('external_id_taken');
  });

  it('bounds acr: aal2 only for a backend allowed to assert it', async () => {
    const refused = await backendCall(server.url, 'POST', '/api/backend/sessions', {
      body: { user: { external_id: externalId() }, acr: 'aal2', amr: ['mfa'] },
      as: OTHER_BACKEND,
    });
    expect(refused.status).toBe(403);
    expect(refused.body.error).toBe('assurance_not_allowed');
    const allowed = await backendSession(server.url, {
      user: { external_id: externalId() },
      acr: 'aal2',
      amr: ['mfa'],
    });
    expect(claimsOf(allowed.access_token)).toMatchObject({ acr: 'aal2', amr: ['mfa'] });
  });

  it('refuses amr values outside RFC 8176, and an unknown client_id', async () => {
    const amr = await backendCall(server.url, 'POST', '/api/backend/sessions', {
      body: { user: { external_id: externalId() }, amr: ['magic'] },
    });
    expect(amr.status).toBe(400);
    expect(amr.body.error).toBe('invalid_request');
    const client = await backendCall(server.url, 'POST', '/api/backend/sessions', {
      body: { user: { external_id: externalId() }, client_id: 'nope' },
    });
    expect(client.status).toBe(400);
    expect(client.body.message).toMatch(/unknown client_id/);
  });

  it('carries allowed custom claims, and refuses unlisted, reserved and oversized ones before provisioning', async () => {
    const grant = await backendSession(server.url, {
      user: { external_id: externalId() },
      claims: { roles: ['admin', 'editor'], tenant: 't-1', plan: { tier: 'pro', seats: 5 } },
    });
    expect(claimsOf(grant.access_token)).toMatchObject({
      roles: ['admin', 'editor'],
      tenant: 't-1',
      plan: { tier: 'pro', seats: 5 },
    });
    const cases: ReadonlyArray<[Record<string, unknown>, number, string, RegExp]> = [
      [
        { colour: 'red' },
        400,
        'claim_not_allowed',
        /"colour" is not a custom claim; allowed: roles, tenant, plan/,
      ],
      [{ sub: 'someone-else' }, 400, 'claim_not_allowed', /"sub" is a reserved claim name/],
      [{ email_verified: true }, 400, 'claim_not_allowed', /reserved/],
      [{ roles: 'x'.repeat(300) }, 413, 'claims_too_large', /at most 256/],
    ];
    for (const [claims, status, error, message] of cases) {
      const id = externalId();
      const response = await backendCall(server.url, 'POST', '/api/backend/sessions', {
        body: { user: { external_id: id }, claims },
      });
      expect(response.status, JSON.stringify(claims)).toBe(status);
      expect(response.body.error).toBe(error);
      expect(response.body.message).toMatch(message);
      const lookup = await backendCall(server.url, 'GET', `/api/backend/users?external_id=${id}`);
      expect(lookup.status).toBe(404);
    }
  });

  it('answers in the cookie transport from a server-to-server call, whatever Origin it forwards', async () => {
    const response = await backendCall<Record<string, unknown>>(server.url, 'POST', '/api/backend/sessions', {
      body: { user: { external_id: externalId() } },
      // No CSRF header, a foreign Origin: the backend's secret is what authenticates this call.
      headers: { 'x-sessiond-transport': 'cookie', origin: 'https://elsewhere.example' },
    });
    expect(response.status).toBe(200);
    expect(response.body.access_token).toBeUndefined();
    expect(response.body.refresh_token).toBeUndefined();
    const cookies = setCookies(response.headers);
    expect(cookies.get('sessiond_at')?.attributes.httponly).toBe(true);
    expect(cookies.get('sessiond_rt')?.attributes.path).toBe('/api/auth/session');
    expect(cookies.get('sessiond_ds')).toBeDefined();
    // The browser the backend forwards them to refreshes like any cookie session.
    const refreshed = await request(server.url, 'POST', '/api/auth/session/refresh', {
      body: {},
      headers: {
        'x-sessiond-transport': 'cookie',
        'x-sessiond-csrf': '1',
        cookie: `sessiond_rt=${cookies.get('sessiond_rt')?.value}`,
      },
    });
    expect(refreshed.status).toBe(200);
  });
});

describe('custom claims of live sessions: PATCH /api/backend/users/:id/claims', () => {
  it('changes every live session: the next refresh carries them, the devices hear it, the log says so', async () => {
    const id = externalId();
    const first = await backendSession(server.url, { user: { external_id: id }, claims: { plan: 'free' } });
    const second = await backendSession(server.url, { user: { external_id: id } });
    const sub = claimsOf(first.access_token).sub as string;
    const socket = await openSync(server.url, { token: second.access_token });
    await socket.next('ready');

    const patch = await backendCall(server.url, 'PATCH', `/api/backend/users/${sub}/claims`, {
      body: { claims: { plan: 'pro', roles: ['admin'] } },
    });
    expect(patch.status).toBe(200);
    expect(patch.body).toEqual({ user_id: sub, sessions: 2 });

    const heard = await socket.next(
      'event',
      (e) => e.event === 'session.claims_changed' && e.session_id === second.session.id,
    );
    expect(heard.detail).toEqual({ claims: { plan: 'pro', roles: ['admin'] } });
    socket.close();

    // The token in hand keeps what it was signed with; the next refresh carries the new claims.
    expect(claimsOf(first.access_token).plan).toBe('free');
    for (const grant of [first, second]) {
      const refreshed = await refresh(server.url, grant.refresh_token);
      expect(claimsOf(refreshed.body.access_token)).toMatchObject({ plan: 'pro', roles: ['admin'] });
    }
    const logs = await request<{ logs: Array<{ action: string; actor: string; detail: unknown }> }>(
      server.url,
      'GET',
      '/api/auth/session/logs',
      {
        token: (
          await refresh(
            server.url,
            (
              await backendSession(server.url, { user: { external_id: id } })
            ).refresh_token,
          )
        ).body.access_token,
      },
    );
    const changed = logs.body.logs.filter((log) => log.action === 'claims_changed');
    expect(changed).toHaveLength(2);
    expect(changed[0]).toMatchObject({
      actor: 'backend',
      detail: { backend: BACKEND.id, names: ['plan', 'roles'] },
    });

    // null removes them.
    await backendCall(server.url, 'PATCH', `/api/backend/users/${sub}/claims`, { body: { claims: null } });
    const cleared = claimsOf((await refresh(server.url, second.refresh_token)).body.access_token);
    expect(cleared.plan).toBeUndefined();
  });

  it('refuses unlisted, reserved and oversized claims, and an unknown user', async () => {
    const grant = await backendSession(server.url, {
      user: { external_id: externalId() },
      claims: { plan: 'free' },
    });
    const sub = claimsOf(grant.access_token).sub as string;
    const cases: ReadonlyArray<[string, unknown, number, string]> = [
      [sub, { colour: 'red' }, 400, 'claim_not_allowed'],
      [sub, { iss: 'https://evil.example' }, 400, 'claim_not_allowed'],
      [sub, { tenant: 'y'.repeat(400) }, 413, 'claims_too_large'],
      ['no-such-user', { plan: 'pro' }, 404, 'user_not_found'],
    ];
    for (const [user, claims, status, error] of cases) {
      const response = await backendCall(server.url, 'PATCH', `/api/backend/users/${user}/claims`, {
        body: { claims },
      });
      expect(response.status).toBe(status);
      expect(response.body.error).toBe(error);
    }
    // Nothing changed.
    expect(claimsOf((await refresh(server.url, grant.refresh_token)).body.access_token).plan).toBe('free');
  });
});

describe('revoke-all, listing and lookup', () => {
  it('revokes every live session of the user, lists them, and 404s an unknown user', async () => {
    const id = externalId();
    const one = await backendSession(server.url, { user: { external_id: id } });
    const two = await backendSession(server.url, { user: { external_id: id } });
    const sub = claimsOf(one.access_token).sub as string;
    const listed = await backendCall<{ sessions: Array<{ id: string; state: string }>; next_cursor: null }>(
      server.url,
      'GET',
      `/api/backend/users/${sub}/sessions`,
    );
    expect(listed.body.sessions.map((s) => s.id).sort()).toEqual([one.session.id, two.session.id].sort());
    const revoked = await backendCall(server.url, 'POST', `/api/backend/users/${sub}/revoke-all`, {
      body: {},
    });
    expect(revoked.body).toEqual({ user_id: sub, revoked: 2 });
    const dead = await refresh(server.url, one.refresh_token);
    expect(dead.status).toBe(401);
    expect(dead.body.error).toBe('session_revoked');
    const live = await backendCall<{ sessions: unknown[] }>(
      server.url,
      'GET',
      `/api/backend/users/${sub}/sessions`,
    );
    expect(live.body.sessions).toHaveLength(0);
    const all = await backendCall<{ sessions: Array<{ state: string; end_reason: string }> }>(
      server.url,
      'GET',
      `/api/backend/users/${sub}/sessions?state=all`,
    );
    expect(all.body.sessions.map((s) => [s.state, s.end_reason])).toEqual([
      ['ended', 'backend'],
      ['ended', 'backend'],
    ]);
    for (const [method, path] of [
      ['POST', '/api/backend/users/no-such-user/revoke-all'],
      ['GET', '/api/backend/users/no-such-user/sessions'],
      ['GET', '/api/backend/users/no-such-user'],
    ] as const) {
      const response = await backendCall(server.url, method, path, method === 'POST' ? { body: {} } : {});
      expect(response.status).toBe(404);
      expect(response.body.error).toBe('user_not_found');
    }
  });

  it("reads a user by id with this backend's external id", async () => {
    const id = externalId();
    const grant: TokenResponse = await backendSession(server.url, { user: { external_id: id } });
    const sub = claimsOf(grant.access_token).sub;
    const mine = await backendCall<{ user: Record<string, unknown> }>(
      server.url,
      'GET',
      `/api/backend/users/${sub}`,
    );
    expect(mine.body.user).toMatchObject({ id: sub, external_id: id });
    const theirs = await backendCall<{ user: Record<string, unknown> }>(
      server.url,
      'GET',
      `/api/backend/users/${sub}`,
      {
        as: OTHER_BACKEND,
      },
    );
    expect(theirs.body.user).toMatchObject({ id: sub, external_id: null });
  });
});
