import type { Page } from 'playwright-core';

/**
 * Registers a passkey for the user from inside `page`, as an app's account page would: a
 * password sign-in (bearer) on the page's origin, a password step-up (the server clock must be
 * past SESSIOND_STEP_UP_PASSWORD_MIN_AGE_SECONDS), then the WebAuthn ceremony with the page's
 * (virtual) authenticator. True once sessiond has the passkey.
 */
export function registerPasskeyInPage(
  page: Page,
  user: { email: string; password: string },
): Promise<boolean> {
  return page.evaluate(async ({ email, password }) => {
    const json = async (path: string, body: unknown, token?: string) => {
      const answer = await fetch(path, {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          ...(token ? { authorization: `Bearer ${token}` } : {}),
        },
        body: JSON.stringify(body),
      });
      return answer.json();
    };
    const b64 = (buffer: ArrayBuffer) =>
      btoa(String.fromCharCode(...new Uint8Array(buffer)))
        .replace(/\+/g, '-')
        .replace(/\//g, '_')
        .replace(/=+$/, '');
    const bytes = (text: string) =>
      Uint8Array.from(atob(text.replace(/-/g, '+').replace(/_/g, '/')), (c) => c.charCodeAt(0));
    const signedIn = await json('/api/auth/session/create', { email, password });
    const stepped = await json('/api/auth/session/step-up', { password }, signedIn.access_token);
    const started = await json('/api/auth/passkeys/register/options', {}, stepped.access_token);
    const options = started.options;
    const credential = (await navigator.credentials.create({
      publicKey: {
        ...options,
        challenge: bytes(options.challenge),
        user: { ...options.user, id: bytes(options.user.id) },
        excludeCredentials: [],
      },
    })) as PublicKeyCredential;
    const response = credential.response as AuthenticatorAttestationResponse;
    const done = await json(
      '/api/auth/passkeys/register',
      {
        ceremony_id: started.ceremony_id,
        response: {
          id: credential.id,
          rawId: b64(credential.rawId),
          type: 'public-key',
          response: {
            clientDataJSON: b64(response.clientDataJSON),
            attestationObject: b64(response.attestationObject),
          },
          clientExtensionResults: {},
        },
      },
      stepped.access_token,
    );
    return done.passkey !== undefined;
  }, user);
}
