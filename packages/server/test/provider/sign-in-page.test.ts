import { createHash, randomBytes } from 'node:crypto';
import { Secret, TOTP } from 'otpauth';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PASSWORD, request, uniqueEmail } from '../helpers/api.js';
import { setCookies } from '../helpers/cookies.js';
import {
  errorSummaryOf,
  formOn,
  formsOf,
  SignInPageBrowser,
  signInThroughPage,
} from '../helpers/sign-in-page.js';
import { startTestServer, type TestServer } from '../helpers/test-server.js';

const REDIRECT = 'https://app.example/callback';
const EVIL_NAME = '<script>alert("name")</script>&\'"`';
const CLIENTS = [
  { id: 'default' },
  { id: 'web', name: 'Web app', redirect_uris: [REDIRECT] },
  { id: 'evil', name: EVIL_NAME, redirect_uris: [REDIRECT] },
];
const CSP =
  "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'";
/** A page of a pending request may also post (be redirected) to the app's redirect URI origin. */
const PAGE_CSP = CSP.replace("form-action 'self'", "form-action 'self' https://app.example");

let server: TestServer;

beforeAll(async () => {
  server = await startTestServer({
    issuerIsURL: true,
    env: { SESSIOND_CLIENTS: JSON.stringify(CLIENTS), SESSIOND_TRUST_PROXY: 'true' },
  });
});
afterAll(async () => {
  await server?.close();
});

let network = 10;
/** Sign-ins from networks of their own: no test's failures leak into another's risk or throttle. */
const nextIP = (): string => {
  network += 1;
  return `198.51.${network}.9`;
};

function authorizeURL(overrides: Record<string, string> = {}): string {
  const verifier = randomBytes(32).toString('base64url');
  const params = new URLSearchParams({
    response_type: 'code',
    client_id: 'web',
    redirect_uri: REDIRECT,
    scope: 'openid email',
    code_challenge: createHash('sha256').update(verifier).digest('base64url'),
    code_challenge_method: 'S256',
    state: 'state-123',
    nonce: 'nonce-123',
    ...overrides,
  });
  return `${server.url}/oauth/authorize?${params}`;
}

async function newUser(): Promise<string> {
  const email = uniqueEmail();
  const signup = await request(server.url, 'POST', '/api/auth/signup', {
    body: { email, password: PASSWORD },
  });
  expect(signup.status).toBe(201);
  return email;
}

/** A user with TOTP enabled through the factor's own service. */
async function userWithTOTP(): Promise<{ email: string; code: () => string }> {
  const email = await newUser();
  const { store, totp } = server.app.sessiond;
  const user = (await store.findUserByEmail(email))!;
  const { secret } = await totp.enroll(user);
  const generator = new TOTP({ secret: Secret.fromBase32(secret), digits: 6, period: 30 });
  const code = (): string => {
    server.clock.advance(30_000);
    return generator.generate({ timestamp: server.clock.now() });
  };
  await totp.confirm((await store.findUserByEmail(email))!, code(), {
    action: 'totp_enrolled',
    success: true,
    userId: user.id,
    ip: null,
    userAgent: null,
    createdAt: server.clock.now(),
  });
  return { email, code };
}

/** A browser on the sign-in page of a new authorization request. */
async function openPage(overrides: Record<string, string> = {}, ip = nextIP()) {
  const browser = new SignInPageBrowser(server.url);
  const page = await browser.follow(await browser.get(authorizeURL(overrides)));
  expect(page.status).toBe(200);
  expect(new URL(page.url).pathname).toBe('/oauth/sign-in');
  const submit = (action: string, values: Record<string, string>, headers: Record<string, string> = {}) =>
    browser.submit(formOn(page, action), values, { 'x-forwarded-for': ip, ...headers });
  return { browser, page, submit };
}

async function liveSessions(email: string) {
  const { store, clock } = server.app.sessiond;
  const user = (await store.findUserByEmail(email))!;
  return store.listLiveSessions(user.id, clock.now());
}

describe('the sign-in page', () => {
  it('renders an accessible form with strict headers', async () => {
    const { page } = await openPage();
    expect(page.headers.get('content-type')).toBe('text/html; charset=utf-8');
    expect(page.headers.get('content-security-policy')).toBe(PAGE_CSP);
    expect(page.headers.get('x-frame-options')).toBe('DENY');
    expect(page.headers.get('cache-control')).toBe('no-store');
    expect(page.headers.get('referrer-policy')).toBe('no-referrer');
    expect(page.body).toContain('<html lang="en">');
    expect(page.body).toContain('<title>Sign in to Web app</title>');
    expect(page.body).toMatch(
      /<label for="email">Email<\/label>\s*<input id="email" name="email" type="email" autocomplete="username"/,
    );
    expect(page.body).toMatch(
      /<label for="password">Password<\/label>\s*<input id="password" name="password" type="password" autocomplete="current-password"/,
    );
    // No inline script or style anywhere: the CSP would refuse them.
    expect(page.body).not.toMatch(/<script>|<style|style="|onclick=/);
    const form = formOn(page, '/oauth/sign-in');
    expect(form.fields.csrf).toMatch(/^[A-Za-z0-9_-]{43}$/);
    // The passkey form is hidden until the script finds WebAuthn.
    expect(page.body).toMatch(
      /<form method="post" action="\/oauth\/sign-in\/passkey" data-passkey[^>]* hidden>/,
    );
    const cookie = setCookies(page.headers).get('sessiond_signin');
    expect(cookie?.attributes.httponly).toBe(true);
    expect(cookie?.attributes.samesite).toBe('Lax');
  });

  it('serves its stylesheet and script from its own origin', async () => {
    const css = await fetch(`${server.url}/oauth/assets/sign-in.css`);
    expect(css.headers.get('content-type')).toBe('text/css; charset=utf-8');
    expect(await css.text()).toContain(':focus-visible');
    const js = await fetch(`${server.url}/oauth/assets/sign-in.js`);
    expect(js.headers.get('content-type')).toBe('text/javascript; charset=utf-8');
    expect(await js.text()).toContain('navigator.credentials.get');
  });

  it('escapes a malicious client name', async () => {
    const { page } = await openPage({ client_id: 'evil' });
    expect(page.body).not.toContain('<script>alert');
    expect(page.body).toContain('&lt;script&gt;alert(&quot;name&quot;)&lt;/script&gt;&amp;&#39;&quot;&#96;');
  });

  it('fills the email with login_hint, escaped', async () => {
    const { page } = await openPage({ login_hint: '"><script>alert(1)</script>' });
    expect(page.body).not.toContain('<script>alert(1)');
    expect(page.body).toContain('value="&quot;&gt;&lt;script&gt;alert(1)&lt;/script&gt;"');
  });

  it('answers an unknown request with a page, not a redirect', async () => {
    const answer = await fetch(`${server.url}/oauth/sign-in?request=ar_nope`, { redirect: 'manual' });
    expect(answer.status).toBe(400);
    expect(answer.headers.get('content-security-policy')).toBe(CSP);
    expect(errorSummaryOf(await answer.text())).toContain('unknown');
  });
});

describe('signing in with a password', () => {
  it('opens an SSO session, sets its cookie and redirects to the app with a code', async () => {
    const email = await newUser();
    const { submit } = await openPage();
    const answer = await submit('/oauth/sign-in', { email, password: PASSWORD });
    expect(answer.status).toBe(303);
    const redirect = new URL(answer.location!);
    expect(`${redirect.origin}${redirect.pathname}`).toBe(REDIRECT);
    expect(redirect.searchParams.get('code')).toBeTruthy();
    expect(redirect.searchParams.get('state')).toBe('state-123');
    const cookies = setCookies(answer.headers);
    expect(cookies.get('sessiond_sso')?.attributes.httponly).toBe(true);
    // The device secret under the page's path and the sign-in API's: one device, either way in.
    const device = answer.headers.getSetCookie().filter((line) => line.startsWith('sessiond_ds='));
    expect(device.map((line) => /Path=([^;]+)/.exec(line)?.[1]).sort()).toEqual([
      '/api/auth',
      '/oauth/sign-in',
    ]);
    expect(device.every((line) => line.includes('HttpOnly'))).toBe(true);
    const sessions = await liveSessions(email);
    expect(sessions.map((session) => session.clientId)).toEqual(['sessiond']);
  });

  it('recognises the browser as the same device at its next sign-in', async () => {
    const email = await newUser();
    const ip = nextIP();
    const first = await signInThroughPage(authorizeURL(), { email, password: PASSWORD });
    // A second sign-in in the same browser (prompt=login: the SSO session does not count).
    const { browser } = first;
    server.clock.advance(1000);
    const page = await browser.follow(await browser.get(authorizeURL({ prompt: 'login' })));
    const again = await browser.submit(
      formOn(page, '/oauth/sign-in'),
      { email, password: PASSWORD },
      {
        'x-forwarded-for': ip,
      },
    );
    expect(again.status).toBe(303);
    const sessions = await liveSessions(email);
    expect(sessions).toHaveLength(2);
    expect(new Set(sessions.map((session) => session.deviceId)).size).toBe(1);
  });

  it('refuses a wrong password with 401 and the same words whether or not the email exists', async () => {
    const email = await newUser();
    const { submit } = await openPage();
    const wrong = await submit('/oauth/sign-in', { email, password: 'not the password' });
    const unknown = await submit('/oauth/sign-in', { email: uniqueEmail(), password: 'not the password' });
    expect(wrong.status).toBe(401);
    expect(unknown.status).toBe(401);
    expect(errorSummaryOf(wrong.body)).toBe('The email or password is wrong.');
    expect(errorSummaryOf(unknown.body)).toBe('The email or password is wrong.');
    expect(wrong.body).toContain('role="alert"');
    // The email stays filled in; the password does not.
    expect(wrong.body).toContain(`value="${email}"`);
    expect(setCookies(wrong.headers).has('sessiond_sso')).toBe(false);
    expect(await liveSessions(email)).toHaveLength(0);
  });

  it('renders the throttle as a readable page with Retry-After', async () => {
    const email = await newUser();
    const { submit } = await openPage();
    let last = await submit('/oauth/sign-in', { email, password: 'wrong' });
    for (let i = 0; i < 30 && last.status !== 429; i += 1) {
      last = await submit('/oauth/sign-in', { email, password: 'wrong' });
    }
    expect(last.status).toBe(429);
    expect(Number(last.headers.get('retry-after'))).toBeGreaterThan(0);
    expect(errorSummaryOf(last.body)).toMatch(/^Too many attempts\. Wait \d+ seconds, then try again\.$/);
  });
});

describe('CSRF', () => {
  it('refuses a form without the token, without the cookie, or with another browser’s token', async () => {
    const email = await newUser();
    const victim = await openPage();
    const attacker = await openPage();
    const form = formOn(victim.page, '/oauth/sign-in');
    const attackerForm = formOn(attacker.page, '/oauth/sign-in');
    const post = (fields: Record<string, string>, cookie: string | undefined) =>
      fetch(`${server.url}/oauth/sign-in`, {
        method: 'POST',
        redirect: 'manual',
        headers: {
          'content-type': 'application/x-www-form-urlencoded',
          ...(cookie ? { cookie } : {}),
        },
        body: new URLSearchParams({ ...fields, email, password: PASSWORD }).toString(),
      });
    const victimCookie = victim.browser.jar.header('/oauth/sign-in');
    // Login CSRF: the attacker's own request and token, posted from the victim's browser.
    const forged = await post(attackerForm.fields, victimCookie);
    const { csrf: _, ...withoutToken } = form.fields;
    const noToken = await post(withoutToken, victimCookie);
    const noCookie = await post(form.fields, undefined);
    for (const answer of [forged, noToken, noCookie]) {
      expect(answer.status).toBe(403);
      expect(answer.headers.get('content-type')).toBe('text/html; charset=utf-8');
      expect(answer.headers.has('location')).toBe(false);
      expect(answer.headers.getSetCookie().some((line) => line.startsWith('sessiond_sso='))).toBe(false);
    }
    expect(await liveSessions(email)).toHaveLength(0);
    // The very same form from the victim's page goes through.
    expect((await post(form.fields, victimCookie)).status).toBe(303);
  });

  it('refuses a form sent from another site even with the right token', async () => {
    const email = await newUser();
    for (const headers of [{ 'sec-fetch-site': 'cross-site' }, { origin: 'https://evil.example' }]) {
      const { submit } = await openPage();
      const answer = await submit('/oauth/sign-in', { email, password: PASSWORD }, headers);
      expect(answer.status).toBe(403);
    }
    expect(await liveSessions(email)).toHaveLength(0);
  });
});

describe('a second factor', () => {
  it('a suspicious sign-in asks for the TOTP code, then redirects', async () => {
    const { email, code } = await userWithTOTP();
    // Failed sign-ins from one network, then a new device on another: suspicious (decision 026).
    const failing = nextIP();
    for (let i = 0; i < 5; i += 1) {
      await request(server.url, 'POST', '/api/auth/session/create', {
        body: { email, password: 'not the password' },
        headers: { 'x-forwarded-for': failing },
      });
    }
    const { browser, submit } = await openPage();
    const asked = await submit('/oauth/sign-in', { email, password: PASSWORD });
    expect(asked.status).toBe(200);
    expect(asked.body).toContain('Verify it’s you');
    expect(asked.body).toMatch(
      /<label for="totp">Code from your authenticator app<\/label>\s*<input id="totp" name="totp"[^>]*autocomplete="one-time-code"/,
    );
    expect(await liveSessions(email)).toHaveLength(0);
    const totpForm = formOn(asked, '/oauth/sign-in/verify');
    const wrong = await browser.submit(totpForm, { totp: '000000' });
    expect(wrong.status).toBe(401);
    expect(errorSummaryOf(wrong.body)).toBeTruthy();
    const done = await browser.submit(formOn(wrong, '/oauth/sign-in/verify'), { totp: code() });
    expect(done.status).toBe(303);
    expect(new URL(done.location!).searchParams.get('code')).toBeTruthy();
    const [session] = await liveSessions(email);
    expect(session?.acr).toBe('aal2');
  });
});

describe('step-up', () => {
  it('acr_values=aal2 after a password sign-in asks for TOTP on the SSO session, then redirects', async () => {
    const { email, code } = await userWithTOTP();
    const { browser, submit } = await openPage({ acr_values: 'aal2' });
    const asked = await submit('/oauth/sign-in', { email, password: PASSWORD });
    expect(asked.status).toBe(200);
    expect(asked.body).toContain('Confirm it’s you');
    // aal2: the password is not offered, only what reaches aal2.
    const forms = formsOf(asked.body);
    expect(forms.some((form) => form.inputs.includes('password'))).toBe(false);
    const wrong = await browser.submit(formOn(asked, '/oauth/sign-in/step-up'), { totp: '000000' });
    expect(wrong.status).toBe(401);
    const done = await browser.submit(formOn(wrong, '/oauth/sign-in/step-up'), { totp: code() });
    expect(done.status).toBe(303);
    expect(new URL(done.location!).searchParams.get('code')).toBeTruthy();
    const [session] = await liveSessions(email);
    expect(session?.acr).toBe('aal2');
    expect(session?.clientId).toBe('sessiond');
    // The SSO session at aal2 now answers the next aal2 request without the page.
    const next = await browser.get(authorizeURL({ acr_values: 'aal2' }));
    expect(next.location?.startsWith(REDIRECT)).toBe(true);
  });

  it('refuses a step-up form without this browser’s token', async () => {
    const { email } = await userWithTOTP();
    const { browser, submit } = await openPage({ acr_values: 'aal2' });
    const asked = await submit('/oauth/sign-in', { email, password: PASSWORD });
    const form = formOn(asked, '/oauth/sign-in/step-up');
    const forged = await browser.submit(
      { ...form, fields: { ...form.fields, csrf: 'x'.repeat(43) } },
      { totp: '123456' },
    );
    expect(forged.status).toBe(403);
  });

  it('the test helper signs in through the page with a second factor', async () => {
    const { email, code } = await userWithTOTP();
    const { redirect } = await signInThroughPage(authorizeURL({ acr_values: 'aal2' }), {
      email,
      password: PASSWORD,
      totp: code,
    });
    expect(redirect.searchParams.get('code')).toBeTruthy();
  });
});

describe('the JSON API', () => {
  it('cannot open an SSO session', async () => {
    const email = await newUser();
    const answer = await request(server.url, 'POST', '/api/auth/session/create', {
      body: { email, password: PASSWORD, client_id: 'sessiond' },
    });
    expect(answer.status).toBe(400);
  });
});
