import type { Passkey } from '@sessiond/protocol';
import type {
  AuthenticationResponseJSON,
  PublicKeyCredentialCreationOptionsJSON,
  PublicKeyCredentialRequestOptionsJSON,
  WebAuthnAdapter,
} from './webauthn.js';

export type { Passkey };

/** `client.passkeys`: the signed-in user's passkeys. */
export interface PasskeyManager {
  /**
   * Creates a passkey on this device and adds it to the account. Needs a recent step-up
   * (decision 016): otherwise it rejects with `reauthentication_required`; step up, then retry.
   */
  register(input?: { name?: string }): Promise<Passkey>;
  list(): Promise<Passkey[]>;
  /** Removes one; needs a recent step-up as `register` does. */
  remove(id: string): Promise<void>;
}

/** Where a sent email code went, masked (`j***@example.com`), and for how long it works. */
export interface EmailCodeSent {
  sentTo: string;
  expiresInMs: number;
}

/** An authenticated JSON call to sessiond (the client's, with its transport and token). */
export type SessiondCall = <T>(
  path: string,
  options: { method: 'GET' | 'POST' | 'PUT' | 'DELETE'; body?: unknown },
) => Promise<T>;

interface CeremonyStart<O> {
  ceremony_id: string;
  options: O;
}

/** One assertion ceremony: the server's options, then the authenticator's signed answer. */
export async function assertPasskey(
  call: SessiondCall,
  webAuthn: WebAuthnAdapter,
  optionsPath: string,
  body: Record<string, unknown>,
): Promise<{ ceremonyId: string; response: AuthenticationResponseJSON }> {
  const start = await call<CeremonyStart<PublicKeyCredentialRequestOptionsJSON>>(optionsPath, {
    method: 'POST',
    body,
  });
  const response = await webAuthn.startAuthentication(start.options);
  return { ceremonyId: start.ceremony_id, response };
}

export function passkeyManager(call: SessiondCall, webAuthn: () => WebAuthnAdapter): PasskeyManager {
  return {
    async register(input = {}) {
      const start = await call<CeremonyStart<PublicKeyCredentialCreationOptionsJSON>>(
        '/api/auth/passkeys/register/options',
        { method: 'POST', body: {} },
      );
      const response = await webAuthn().startRegistration(start.options);
      const created = await call<{ passkey: Passkey }>('/api/auth/passkeys/register', {
        method: 'POST',
        body: {
          ceremony_id: start.ceremony_id,
          response,
          ...(input.name !== undefined ? { name: input.name } : {}),
        },
      });
      return created.passkey;
    },
    async list() {
      return (await call<{ passkeys: Passkey[] }>('/api/auth/passkeys', { method: 'GET' })).passkeys;
    },
    async remove(id) {
      await call(`/api/auth/passkeys/${encodeURIComponent(id)}`, { method: 'DELETE' });
    },
  };
}

export function emailCodeSent(answer: { sent_to: string; expires_in: number }): EmailCodeSent {
  return { sentTo: answer.sent_to, expiresInMs: answer.expires_in * 1000 };
}
