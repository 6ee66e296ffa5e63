import type { AccessTokenClaims } from '@sessiond/protocol';
import { VerifyError } from './errors.js';
import type { Verifier } from './verifier.js';

export type Authorization =
  | { ok: true; claims: AccessTokenClaims }
  | { ok: false; status: number; challenge: string; body: { error: string; message: string } };

const BEARER = /^Bearer[ ]+([^\s]+)\s*$/i;

/**
 * The framework-independent half of the Fastify plugin and the Express middleware: reads the
 * bearer token (RFC 6750 §2.1, header only) and turns every refusal into a status, an RFC 6750
 * challenge and the same `{error, message}` body sessiond itself answers with.
 */
export async function authorize(verifier: Verifier, header: string | undefined): Promise<Authorization> {
  const token = header ? BEARER.exec(header)?.[1] : undefined;
  if (!token) {
    return {
      ok: false,
      status: 401,
      challenge: 'Bearer realm="sessiond"',
      body: {
        error: header ? 'token_invalid' : 'token_missing',
        message: 'a bearer access token is required',
      },
    };
  }
  try {
    return { ok: true, claims: await verifier.verify(token) };
  } catch (error) {
    if (!(error instanceof VerifyError)) throw error;
    const unavailable = error.code === 'verifier_unavailable';
    return {
      ok: false,
      status: unavailable ? 503 : 401,
      challenge: unavailable ? 'Bearer realm="sessiond"' : `Bearer realm="sessiond", error="invalid_token"`,
      body: { error: error.code, message: error.message },
    };
  }
}
