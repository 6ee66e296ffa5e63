import type { Passkey, TokenResponse } from '@sessiond/protocol';
import type {
  PublicKeyCredentialCreationOptionsJSON,
  PublicKeyCredentialRequestOptionsJSON,
} from '@simplewebauthn/server';
import { decodeJwt } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../src/config.js';
import { PASSWORD, request, signIn, signUpAndIn } from './helpers/api.js';
import { SoftAuthenticator } from './helpers/soft-authenticator.js';
import { startTestServer, type TestServer } from './helpers/test-server.js';

// Issue 14, slice A: passkeys on the server (decision 025). The test server's issuer is
// http://sessiond.test, so the relying party is sessiond.test and its one origin http://sessiond.test.
const ORIGIN = 'http://sessiond.test';

let server: TestServer;
beforeAll(async () => {
  server = await startTestServer({
    env: {
      SESSIOND_REAUTH_MAX_AGE_SECONDS: '300',
      // Every refusal below is a failed login from 127.0.0.1; how the risk engine weighs a run of
      // them is risk.test.ts's subject, not this suite's.
      SESSIOND_RISK_FAILED_LOGINS: '1000',
    },
  });
});
afterAll(async () => {
  await server.close();
});

type Answer<T> = T & { error?: string; message?: string };
const post = <T = Record<string, unknown>>(path: string, token: string | undefined, body: unknown = {}) =>
  request<Answer<T>>(server.url, 'POST', path, {
    ...(token ? { token } : {}),
    body: body as Record<string, unknown>,
  });
const get = <T = Record<string, unknown>>(path: string, token: string) =>
  request<Answer<T>>(server.url, 'GET', path, { token });

/** One device for a user's password sign-ins: a known device, so a sign-in is not suspicious for being new. */
const DEVICE = { id: 'passkey-test-device' };
const passwordSignIn = (email: string): Promise<TokenResponse> =>
  signIn(server.url, email, { device: DEVICE });

interface Started<Options> {
  ceremony_id: string;
  options: Options;
}

/** A password sign-in made old enough that the password alone may step up (decision 024), then stepped up. */
async function reauthenticatedWithPassword(): Promise<{ token: string; email: string }> {
  const grant = await signUpAndIn(server.url, { device: DEVICE });
  server.clock.advance(301_000);
  const stepped = await post<TokenResponse>('/api/auth/session/step-up', grant.access_token, {
    password: PASSWORD,
  });
  expect(stepped.status, JSON.stringify(stepped.body)).toBe(200);
  return { token: stepped.body.access_token, email: grant.email };
}

async function registrationOptions(token: string) {
  return post<Started<PublicKeyCredentialCreationOptionsJSON>>('/api/auth/passkeys/register/options', token);
}

/** Registers a new passkey of `authenticator` for the session of `token`. */
async function registerPasskey(token: string, authenticator: SoftAuthenticator): Promise<Passkey> {
  const started = await registrationOptions(token);
  expect(started.status, JSON.stringify(started.body)).toBe(200);
  const registered = await post<{ passkey: Passkey }>('/api/auth/passkeys/register', token, {
    ceremony_id: started.body.ceremony_id,
    response: authenticator.register(started.body.options),
    name: 'test key',
  });
  expect(registered.status, JSON.stringify(registered.body)).toBe(201);
  return registered.body.passkey;
}

/** A user with one registered passkey, and the password-authenticated session that registered it. */
async function userWithPasskey(): Promise<{
  token: string;
  email: string;
  authenticator: SoftAuthenticator;
  passkey: Passkey;
}> {
  const { token, email } = await reauthenticatedWithPassword();
  const authenticator = new SoftAuthenticator({ origin: ORIGIN });
  const passkey = await registerPasskey(token, authenticator);
  return { token, email, authenticator, passkey };
}

const signInOptions = () =>
  post<Started<PublicKeyCredentialRequestOptionsJSON>>('/api/auth/passkeys/sign-in/options', undefined);

async function signInWithPasskey(
  authenticator: SoftAuthenticator,
  overrides: Parameters<SoftAuthenticator['assert']>[1] = {},
) {
  const started = await signInOptions();
  expect(started.status).toBe(200);
  const body = {
    ceremony_id: started.body.ceremony_id,
    response: authenticator.assert(started.body.options, overrides),
  };
  return { body, answer: await post<TokenResponse>('/api/auth/passkeys/sign-in', undefined, body) };
}

async function logActions(token: string): Promise<string[]> {
  const logs = await get<{ logs: { action: string }[] }>('/api/auth/session/logs?limit=100', token);
  return logs.body.logs.map((row) => row.action);
}

describe('passkey registration', () => {
  it('needs a recent re-authentication: a fresh access token alone cannot add a passkey', async () => {
    const grant = await signUpAndIn(server.url);
    const refused = await registrationOptions(grant.access_token);
    expect(refused.status).toBe(401);
    expect(refused.body.error).toBe('reauthentication_required');
    expect(refused.headers.get('www-authenticate')).toMatch(/insufficient_user_authentication.*max_age=300/);
    // A re-authentication too old does not count either.
    const { token } = await reauthenticatedWithPassword();
    server.clock.advance(301_000);
    expect((await registrationOptions(token)).body.error).toBe('reauthentication_required');
  });

  it('registers a discoverable passkey with user verification, lists it, and audits it', async () => {
    const { token } = await reauthenticatedWithPassword();
    const started = await registrationOptions(token);
    expect(started.status).toBe(200);
    const { options } = started.body;
    expect(options.rp).toEqual({ id: 'sessiond.test', name: 'sessiond' });
    expect(options.authenticatorSelection).toMatchObject({
      residentKey: 'required',
      userVerification: 'required',
    });
    expect(options.pubKeyCredParams.map((p) => p.alg).sort()).toEqual([-257, -7]);
    expect(options.excludeCredentials).toEqual([]);
    const authenticator = new SoftAuthenticator({ origin: ORIGIN });
    const registered = await post<{ passkey: Passkey }>('/api/auth/passkeys/register', token, {
      ceremony_id: started.body.ceremony_id,
      response: authenticator.register(options),
      name: 'laptop',
    });
    expect(registered.status, JSON.stringify(registered.body)).toBe(201);
    const id = authenticator.credentials[0]?.id;
    expect(registered.body.passkey).toMatchObject({
      id,
      name: 'laptop',
      last_used_at: null,
      transports: ['internal'],
    });
    const listed = await get<{ passkeys: Passkey[] }>('/api/auth/passkeys', token);
    expect(listed.body.passkeys).toEqual([registered.body.passkey]);
    expect(await logActions(token)).toContain('passkey_registered');

    // The password no longer changes factors; a passkey sign-in does. Its next registration
    // excludes the passkey, and an authenticator that registers it anyway is refused.
    expect((await registrationOptions(token)).body.error).toBe('reauthentication_required');
    const { answer } = await signInWithPasskey(authenticator);
    const viaPasskey = answer.body.access_token;
    const again = await registrationOptions(viaPasskey);
    expect(again.body.options.excludeCredentials?.map((c) => c.id)).toEqual([id]);
    expect(() => authenticator.register(again.body.options)).toThrow(/InvalidStateError/);
    const duplicate = await post('/api/auth/passkeys/register', viaPasskey, {
      ceremony_id: again.body.ceremony_id,
      response: authenticator.register(again.body.options, { reuse: id as string }),
    });
    expect(duplicate.status).toBe(409);
    expect(duplicate.body.error).toBe('passkey_exists');
  });

  it("refuses a registration ceremony of another session, even the same user's", async () => {
    const { token, email } = await reauthenticatedWithPassword();
    const started = await registrationOptions(token);
    const other = await passwordSignIn(email);
    const authenticator = new SoftAuthenticator({ origin: ORIGIN });
    const stolen = await post('/api/auth/passkeys/register', other.access_token, {
      ceremony_id: started.body.ceremony_id,
      response: authenticator.register(started.body.options),
    });
    expect(stolen.status).toBe(400);
    expect(stolen.body.error).toBe('ceremony_invalid');
    expect((await get<{ passkeys: Passkey[] }>('/api/auth/passkeys', token)).body.passkeys).toEqual([]);
  });

  it('refuses a registration without user verification, or from another origin', async () => {
    const { token } = await reauthenticatedWithPassword();
    for (const overrides of [
      { userVerified: false },
      { origin: 'http://evil.test' },
      { rpId: 'evil.test' },
    ]) {
      const started = await registrationOptions(token);
      const answer = await post('/api/auth/passkeys/register', token, {
        ceremony_id: started.body.ceremony_id,
        response: new SoftAuthenticator({ origin: ORIGIN }).register(started.body.options, overrides),
      });
      expect(answer.status, JSON.stringify(overrides)).toBe(401);
      expect(answer.body.error).toBe('passkey_invalid');
    }
    expect((await get<{ passkeys: Passkey[] }>('/api/auth/passkeys', token)).body.passkeys).toEqual([]);
  });
});

describe('passkey sign-in (discoverable)', () => {
  it('signs in at aal2 with amr hwk, as a fresh re-authentication, and records the use', async () => {
    const { authenticator, passkey } = await userWithPasskey();
    const started = await signInOptions();
    expect(started.body.options.allowCredentials ?? []).toEqual([]);
    expect(started.body.options.userVerification).toBe('required');
    expect(started.body.options.rpId).toBe('sessiond.test');
    const answer = await post<TokenResponse>('/api/auth/passkeys/sign-in', undefined, {
      ceremony_id: started.body.ceremony_id,
      response: authenticator.assert(started.body.options),
    });
    expect(answer.status, JSON.stringify(answer.body)).toBe(200);
    expect(answer.body.session.acr).toBe('aal2');
    const claims = decodeJwt(answer.body.access_token);
    expect(claims.acr).toBe('aal2');
    expect(claims.amr).toEqual(['hwk', 'mfa']);
    // A passkey sign-in is a re-authentication with the passkey: factor changes are allowed at once.
    const second = await registrationOptions(answer.body.access_token);
    expect(second.status).toBe(200);
    const listed = await get<{ passkeys: Passkey[] }>('/api/auth/passkeys', answer.body.access_token);
    expect(listed.body.passkeys[0]?.id).toBe(passkey.id);
    expect(listed.body.passkeys[0]?.last_used_at).not.toBeNull();
  });

  it('refuses a wrong origin, a wrong RP id and a missing user verification', async () => {
    const { authenticator } = await userWithPasskey();
    for (const overrides of [
      { origin: 'http://evil.test' },
      { origin: 'http://sessiond.test:8080' },
      { rpId: 'evil.test' },
      { userVerified: false },
    ]) {
      const { answer } = await signInWithPasskey(authenticator, overrides);
      expect(answer.status, JSON.stringify(overrides)).toBe(401);
      expect(answer.body.error).toBe('passkey_invalid');
    }
    // The same authenticator, honest, still works: none of the refusals counted as a use.
    expect((await signInWithPasskey(authenticator)).answer.status).toBe(200);
  });

  it('refuses a replayed assertion: the ceremony is single use', async () => {
    const { authenticator } = await userWithPasskey();
    const { body, answer } = await signInWithPasskey(authenticator);
    expect(answer.status).toBe(200);
    const replay = await post('/api/auth/passkeys/sign-in', undefined, body);
    expect(replay.status).toBe(400);
    expect(replay.body.error).toBe('ceremony_invalid');
  });

  it('refuses an expired ceremony', async () => {
    const { authenticator } = await userWithPasskey();
    const started = await signInOptions();
    server.clock.advance(5 * 60_000 + 1_000);
    const late = await post('/api/auth/passkeys/sign-in', undefined, {
      ceremony_id: started.body.ceremony_id,
      response: authenticator.assert(started.body.options),
    });
    expect(late.status).toBe(400);
    expect(late.body.error).toBe('ceremony_invalid');
  });

  it('refuses an assertion signed for another ceremony', async () => {
    const { authenticator } = await userWithPasskey();
    const first = await signInOptions();
    const second = await signInOptions();
    const answer = await post('/api/auth/passkeys/sign-in', undefined, {
      ceremony_id: second.body.ceremony_id,
      response: authenticator.assert(first.body.options),
    });
    expect(answer.status).toBe(401);
    expect(answer.body.error).toBe('passkey_invalid');
  });

  it('refuses a cloned authenticator (the counter went back), audits it and flags the live sessions', async () => {
    const { token, authenticator } = await userWithPasskey();
    const clone = authenticator.clone();
    expect((await signInWithPasskey(authenticator)).answer.status).toBe(200); // counter 1
    const live = (await signInWithPasskey(authenticator)).answer.body.access_token; // counter 2
    const { answer } = await signInWithPasskey(clone); // counter 1 again
    expect(answer.status).toBe(401);
    expect(answer.body.error).toBe('passkey_invalid');
    expect(await logActions(token)).toContain('passkey_clone_suspected');
    for (const t of [token, live]) {
      expect(
        (await get<{ session: { step_up_required: boolean } }>('/api/auth/session/status', t)).body.session
          .step_up_required,
      ).toBe(true);
    }
    // A counter that stands still is refused the same way.
    authenticator.counter = 1; // the next assertion signs 2, already seen
    expect((await signInWithPasskey(authenticator)).answer.body.error).toBe('passkey_invalid');
    authenticator.counter = 10;
    expect((await signInWithPasskey(authenticator)).answer.status).toBe(200);
  });

  it('refuses an unknown credential', async () => {
    await userWithPasskey();
    const stranger = new SoftAuthenticator({ origin: ORIGIN });
    // A credential the authenticator holds for this RP, never registered with it.
    stranger.register({
      challenge: 'unused',
      rp: { id: 'sessiond.test', name: 'sessiond' },
      user: { id: Buffer.from('nobody').toString('base64url'), name: 'nobody', displayName: '' },
      pubKeyCredParams: [{ type: 'public-key', alg: -7 }],
    });
    expect((await signInWithPasskey(stranger)).answer.body.error).toBe('passkey_invalid');
  });
});

describe('passkey step-up', () => {
  it('moves a password session to aal2 with hwk, leaving the cart as it was', async () => {
    const { email, authenticator, passkey } = await userWithPasskey();
    const grant = await passwordSignIn(email);
    const token = grant.access_token;
    expect(grant.session.acr).toBe('aal1');
    const op = await post(`/api/state/cart/ops`, token, {
      client_op_id: 'passkey-step-up-1',
      op: 'increment',
      path: ['items', 'sku-1', 'qty'],
      value: 3,
    });
    expect(op.status, JSON.stringify(op.body)).toBe(200);
    const before = await get('/api/state/cart', token);

    const started = await post<Started<PublicKeyCredentialRequestOptionsJSON>>(
      '/api/auth/session/step-up/passkey-options',
      token,
    );
    expect(started.status, JSON.stringify(started.body)).toBe(200);
    expect(started.body.options.allowCredentials?.map((c) => c.id)).toEqual([passkey.id]);
    expect(started.body.options.userVerification).toBe('required');
    const stepped = await post<TokenResponse>('/api/auth/session/step-up', token, {
      passkey: authenticator.assert(started.body.options),
      ceremony_id: started.body.ceremony_id,
    });
    expect(stepped.status, JSON.stringify(stepped.body)).toBe(200);
    expect(stepped.body.session.acr).toBe('aal2');
    expect(decodeJwt(stepped.body.access_token).amr).toEqual(expect.arrayContaining(['pwd', 'hwk']));
    expect((await get('/api/state/cart', stepped.body.access_token)).body).toEqual(before.body);
  });

  it('refuses a step-up ceremony of another session', async () => {
    const { email, authenticator } = await userWithPasskey();
    const mine = await passwordSignIn(email);
    const theirs = await passwordSignIn(email);
    const started = await post<Started<PublicKeyCredentialRequestOptionsJSON>>(
      '/api/auth/session/step-up/passkey-options',
      mine.access_token,
    );
    const answer = await post('/api/auth/session/step-up', theirs.access_token, {
      passkey: authenticator.assert(started.body.options),
      ceremony_id: started.body.ceremony_id,
    });
    expect(answer.status).toBe(400);
    expect(answer.body.error).toBe('ceremony_invalid');
    expect((await get('/api/auth/session/status', theirs.access_token)).body).toMatchObject({
      session: { acr: 'aal1' },
    });
  });

  it('answers factor_unavailable to a user without a passkey', async () => {
    const grant = await signUpAndIn(server.url);
    const answer = await post('/api/auth/session/step-up/passkey-options', grant.access_token);
    expect(answer.status).toBe(409);
    expect(answer.body.error).toBe('factor_unavailable');
  });
});

describe('passkey as the second factor of a pending sign-in', () => {
  // Its own server, where a new device alone makes a password sign-in suspicious; the helpers
  // above use `server`, so it stands in for the suite's server while these tests run.
  let suiteServer: TestServer;
  beforeAll(async () => {
    suiteServer = server;
    server = await startTestServer({
      env: { SESSIOND_RISK_WEIGHTS: 'new_device=60', SESSIOND_RISK_FAILED_LOGINS: '1000' },
    });
  });
  afterAll(async () => {
    await server.close();
    server = suiteServer;
  });

  /** A password sign-in from a device the account has never seen: suspicious, so it waits (decision 026). */
  async function pendingSignIn(email: string): Promise<string> {
    const answer = await post<{ pending_token: string; factors: string[] }>(
      '/api/auth/session/create',
      undefined,
      {
        email,
        password: PASSWORD,
      },
    );
    expect(answer.status, JSON.stringify(answer.body)).toBe(401);
    expect(answer.body.error).toBe('second_factor_required');
    expect(answer.body.factors).toContain('passkey');
    return answer.body.pending_token;
  }

  it('completes with an assertion in a ceremony bound to that pending sign-in, and no other', async () => {
    const { email, authenticator, passkey } = await userWithPasskey();
    const pendingToken = await pendingSignIn(email);
    const started = await post<Started<PublicKeyCredentialRequestOptionsJSON>>(
      '/api/auth/session/verify/passkey-options',
      undefined,
      { pending_token: pendingToken },
    );
    expect(started.status, JSON.stringify(started.body)).toBe(200);
    expect(started.body.options.allowCredentials?.map((c) => c.id)).toEqual([passkey.id]);

    // A step-up ceremony of one of the user's sessions does not finish the pending sign-in.
    const session = await passwordSignIn(email);
    const stepUp = await post<Started<PublicKeyCredentialRequestOptionsJSON>>(
      '/api/auth/session/step-up/passkey-options',
      session.access_token,
    );
    const foreign = await post('/api/auth/session/verify', undefined, {
      pending_token: pendingToken,
      passkey: authenticator.assert(stepUp.body.options),
      ceremony_id: stepUp.body.ceremony_id,
    });
    expect(foreign.status).toBe(400);
    expect(foreign.body.error).toBe('ceremony_invalid');

    const verified = await post<TokenResponse>('/api/auth/session/verify', undefined, {
      pending_token: pendingToken,
      passkey: authenticator.assert(started.body.options),
      ceremony_id: started.body.ceremony_id,
    });
    expect(verified.status, JSON.stringify(verified.body)).toBe(200);
    expect(verified.body.session.acr).toBe('aal2');
  });
});

describe('passkey removal', () => {
  it('needs a recent passkey (or TOTP) re-authentication once the user has a passkey', async () => {
    const { email, authenticator, passkey } = await userWithPasskey();
    // The password is no longer enough to change factors.
    const grant = await passwordSignIn(email);
    server.clock.advance(301_000);
    const withPassword = await post<TokenResponse>('/api/auth/session/step-up', grant.access_token, {
      password: PASSWORD,
    });
    expect(withPassword.status, JSON.stringify(withPassword.body)).toBe(200);
    const refused = await request<Answer<object>>(server.url, 'DELETE', `/api/auth/passkeys/${passkey.id}`, {
      token: withPassword.body.access_token,
    });
    expect(refused.status).toBe(401);
    expect(refused.body.error).toBe('reauthentication_required');
    expect((await registrationOptions(withPassword.body.access_token)).body.error).toBe(
      'reauthentication_required',
    );

    const viaPasskey = (await signInWithPasskey(authenticator)).answer.body.access_token;
    const removed = await request<Answer<{ removed: boolean }>>(
      server.url,
      'DELETE',
      `/api/auth/passkeys/${passkey.id}`,
      {
        token: viaPasskey,
      },
    );
    expect(removed.status).toBe(200);
    expect(removed.body).toEqual({ removed: true });
    expect((await get<{ passkeys: Passkey[] }>('/api/auth/passkeys', viaPasskey)).body.passkeys).toEqual([]);
    expect(await logActions(viaPasskey)).toContain('passkey_removed');
    const again = await request<Answer<object>>(server.url, 'DELETE', `/api/auth/passkeys/${passkey.id}`, {
      token: viaPasskey,
    });
    expect(again.status).toBe(404);
    expect(again.body.error).toBe('passkey_not_found');
    // Gone: it signs nobody in.
    expect((await signInWithPasskey(authenticator)).answer.body.error).toBe('passkey_invalid');
  });
});

describe('WebAuthn configuration', () => {
  const base = { SESSIOND_ISSUER: 'https://auth.shop.test', SESSIOND_LOG_LEVEL: 'silent' };

  it('defaults to the issuer: its hostname as RP id, its origin as the one origin', () => {
    expect(loadConfig(base).webauthn).toEqual({
      rpID: 'auth.shop.test',
      rpName: 'sessiond',
      origins: ['https://auth.shop.test'],
    });
    expect(
      loadConfig({
        ...base,
        SESSIOND_WEBAUTHN_RP_ID: 'shop.test',
        SESSIOND_WEBAUTHN_RP_NAME: 'Shop',
        SESSIOND_WEBAUTHN_ORIGINS: 'https://shop.test, https://www.shop.test/',
      }).webauthn,
    ).toEqual({ rpID: 'shop.test', rpName: 'Shop', origins: ['https://shop.test', 'https://www.shop.test'] });
  });

  it('refuses at start an origin off the RP id, or an RP id that is not a domain', () => {
    expect(() =>
      loadConfig({
        ...base,
        SESSIOND_WEBAUTHN_RP_ID: 'shop.test',
        SESSIOND_WEBAUTHN_ORIGINS: 'https://evilshop.test',
      }),
    ).toThrow(/SESSIOND_WEBAUTHN.*not on the RP id/);
    expect(() => loadConfig({ ...base, SESSIOND_WEBAUTHN_RP_ID: 'https://shop.test' })).toThrow(
      /SESSIOND_WEBAUTHN_RP_ID/,
    );
    expect(() => loadConfig({ ...base, SESSIOND_WEBAUTHN_ORIGINS: 'https://auth.shop.test/login' })).toThrow(
      /SESSIOND_WEBAUTHN_ORIGINS/,
    );
  });
});
