import { Secret, TOTP } from 'otpauth';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { PASSWORD, request, uniqueEmail } from '../../server/test/helpers/api.js';
import { type SMTPSink, startSMTPSink } from '../../server/test/helpers/smtp-sink.js';
import { SoftAuthenticator } from '../../server/test/helpers/soft-authenticator.js';
import { demandStepUp } from '../../server/test/helpers/step-up.js';
import { startTestServer, type TestServer } from '../../server/test/helpers/test-server.js';
import { createSessionClient, type SessionClient } from '../src/session-client.js';
import { cart } from '../src/sync/cart.js';
import type { WebSocketConstructor } from '../src/sync/sync-connection.js';
import type { WebAuthnAdapter } from '../src/webauthn.js';

/** The origin the soft authenticator signs for: the one sessiond is configured to accept. */
const ORIGIN = 'http://localhost:4000';

let sink: SMTPSink;
let server: TestServer;
beforeAll(async () => {
  sink = await startSMTPSink();
  server = await startTestServer({
    issuerIsURL: true,
    env: {
      SESSIOND_SMTP_URL: sink.url,
      SESSIOND_WEBAUTHN_RP_ID: 'localhost',
      SESSIOND_WEBAUTHN_ORIGINS: ORIGIN,
    },
  });
});
afterAll(async () => {
  await server?.close();
  await sink?.close();
});

/** The client's WebAuthn port over a software authenticator: what a React Native app plugs in. */
function adapterOver(authenticator: SoftAuthenticator): WebAuthnAdapter & { ceremonies: string[] } {
  const ceremonies: string[] = [];
  return {
    ceremonies,
    startRegistration: async (options) => {
      ceremonies.push('create');
      return authenticator.register(options);
    },
    startAuthentication: async (options) => {
      ceremonies.push('get');
      return authenticator.assert(options);
    },
  };
}

function newClient(webAuthn?: WebAuthnAdapter): SessionClient {
  return createSessionClient({
    baseUrl: server.url,
    webSocket: WebSocket as unknown as WebSocketConstructor,
    ...(webAuthn ? { webAuthn } : {}),
  });
}

async function signedIn(webAuthn?: WebAuthnAdapter): Promise<{ client: SessionClient; email: string }> {
  const email = uniqueEmail();
  await request(server.url, 'POST', '/api/auth/signup', { body: { email, password: PASSWORD } });
  const client = newClient(webAuthn);
  await client.signIn({ email, password: PASSWORD });
  return { client, email };
}

async function stepUpWithMailedCode(client: SessionClient, email: string): Promise<void> {
  const sent = await client.sendStepUpEmailCode();
  expect(sent).toEqual({ sentTo: `${email.slice(0, 1)}***@example.com`, expiresInMs: 600_000 });
  await client.stepUp({ emailCode: await sink.nextCode(email) });
}

async function stateOf(client: SessionClient) {
  const response = await client.fetch('/api/state/cart');
  expect(response.status).toBe(200);
  return response.json();
}

describe('client passkeys against a real server (software authenticator through the adapter)', () => {
  it('register needs a recent step-up; then registers, lists, signs in, steps up and removes', async () => {
    const authenticator = new SoftAuthenticator({ origin: ORIGIN });
    const webAuthn = adapterOver(authenticator);
    const { client, email } = await signedIn(webAuthn);

    // An access token alone never adds a factor (decision 016): no ceremony is even started.
    await expect(client.passkeys.register({ name: 'Pixel' })).rejects.toMatchObject({
      kind: 'auth',
      code: 'reauthentication_required',
    });
    expect(webAuthn.ceremonies).toEqual([]);
    expect(client.state.get().status).toBe('authenticated');

    await stepUpWithMailedCode(client, email);
    const passkey = await client.passkeys.register({ name: 'Pixel' });
    expect(passkey).toMatchObject({ id: authenticator.credentials[0]!.id, name: 'Pixel' });
    expect(webAuthn.ceremonies).toEqual(['create']);
    expect(await client.passkeys.list()).toEqual([passkey]);

    // A fresh install: the discoverable passkey names the account, no email typed.
    const phone = newClient(webAuthn);
    const state = await phone.signInWithPasskey({ device: { name: 'Phone' } });
    expect(state).toMatchObject({ status: 'authenticated', user: { id: client.state.get().user!.id } });
    expect(state.session).toMatchObject({ acr: 'aal2' });
    expect((await phone.fetch('/api/auth/session/status')).status).toBe(200);

    // A passkey step-up moves this session to aal2, and is recent enough to remove the passkey.
    await client.stepUp({ passkey: true });
    expect(client.state.get()).toMatchObject({ status: 'authenticated', session: { acr: 'aal2' } });
    await client.passkeys.remove(passkey.id);
    expect(await client.passkeys.list()).toEqual([]);
    await expect(phone.signInWithPasskey()).rejects.toMatchObject({ code: 'passkey_invalid' });
    client.close();
    phone.close();
  });

  it('no step-up and no factor change touches the cart, here or on the server', async () => {
    const authenticator = new SoftAuthenticator({ origin: ORIGIN });
    const { client, email } = await signedIn(adapterOver(authenticator));
    const doc = client.sync('cart');
    await doc.ready;
    cart(doc).addItem('sku-mug', 2, { title: 'Mug' });
    cart(doc).addItem('sku-tea', 1);
    await doc.settled();
    const before = { local: doc.value.get(), server: await stateOf(client) };
    expect(before.local).toEqual({ items: { 'sku-mug': { title: 'Mug', qty: 2 }, 'sku-tea': { qty: 1 } } });
    const sessionId = client.state.get().session!.id;

    server.clock.advance(301_000);
    await client.stepUp({ password: PASSWORD });
    await stepUpWithMailedCode(client, email);
    const passkey = await client.passkeys.register();
    await client.stepUp({ passkey: true });
    await demandStepUp(server, sessionId);
    await client.stepUp({ passkey: true });
    await client.passkeys.remove(passkey.id);

    expect(client.state.get()).toMatchObject({ status: 'authenticated', session: { id: sessionId } });
    expect(doc.value.get()).toEqual(before.local);
    expect(await stateOf(client)).toEqual(before.server);
    // And the document still syncs: the step-ups left the socket's session working.
    cart(doc).addItem('sku-tea', 1);
    await doc.settled();
    expect((await stateOf(client)).document).toEqual({
      items: { 'sku-mug': { title: 'Mug', qty: 2 }, 'sku-tea': { qty: 2 } },
    });
    client.close();
  });
});

describe('client step-up factors against a real server', () => {
  it('TOTP: aal2, and a flagged session back to authenticated', async () => {
    const { client, email } = await signedIn();
    const user = (await server.app.sessiond.store.findUserByEmail(email))!;
    const { secret } = await server.app.sessiond.totp.enroll(user);
    const generator = new TOTP({ secret: Secret.fromBase32(secret), digits: 6, period: 30 });
    const code = () => {
      server.clock.advance(30_000);
      return generator.generate({ timestamp: server.clock.now() });
    };
    await server.app.sessiond.totp.confirm(
      (await server.app.sessiond.store.findUserByEmail(email))!,
      code(),
      {
        action: 'totp_enrolled',
        success: true,
        userId: user.id,
        ip: null,
        userAgent: null,
        createdAt: server.clock.now(),
      },
    );
    await demandStepUp(server, client.state.get().session!.id);
    const refused = await client.fetch('/api/auth/session/revoke-all', {
      method: 'POST',
      body: '{}',
      headers: { 'content-type': 'application/json' },
    });
    expect(refused.status).toBe(401);
    expect(client.state.get().status).toBe('step_up_required');
    await expect(client.stepUp({ totp: '000000' === code() ? '111111' : '000000' })).rejects.toMatchObject({
      code: 'invalid_credentials',
    });
    expect(client.state.get().status).toBe('step_up_required');
    await client.stepUp({ totp: code() });
    expect(client.state.get()).toMatchObject({ status: 'authenticated', session: { acr: 'aal2' } });
    client.close();
  });

  it('email code: a wrong code is refused and the state kept; the mailed one steps up (acr kept)', async () => {
    const { client, email } = await signedIn();
    await client.sendStepUpEmailCode();
    const mailed = await sink.nextCode(email);
    await expect(
      client.stepUp({ emailCode: mailed === '000000' ? '111111' : '000000' }),
    ).rejects.toMatchObject({
      code: 'invalid_credentials',
    });
    await client.stepUp({ emailCode: mailed });
    expect(client.state.get()).toMatchObject({ status: 'authenticated', session: { acr: 'aal1' } });
    client.close();
  });

  it('password: refused right after a password sign-in, naming the factors; accepted later; the string overload too', async () => {
    const { client } = await signedIn();
    const refused = await client.stepUp({ password: PASSWORD }).catch((error: unknown) => error);
    expect(refused).toMatchObject({
      kind: 'auth',
      code: 'factor_not_accepted',
      details: { factors: ['email_code'] },
    });
    server.clock.advance(301_000);
    await client.stepUp(PASSWORD);
    // A password step-up is a password typed now: the next one waits again.
    await expect(client.stepUp({ password: PASSWORD })).rejects.toMatchObject({
      code: 'factor_not_accepted',
    });
    server.clock.advance(301_000);
    await client.stepUp({ password: PASSWORD });
    expect(client.state.get().status).toBe('authenticated');
    client.close();
  });

  it('passkey: a user without one is told so before any ceremony', async () => {
    const webAuthn = adapterOver(new SoftAuthenticator({ origin: ORIGIN }));
    const { client } = await signedIn(webAuthn);
    await expect(client.stepUp({ passkey: true })).rejects.toMatchObject({ code: 'factor_unavailable' });
    expect(webAuthn.ceremonies).toEqual([]);
    client.close();
  });
});
