import { VerifyError } from './errors.js';
import type { CustomClaims, VerifiedClaims, Verifier } from './verifier.js';

export type Authorization<C extends CustomClaims = Record<never, never>> =
  | { ok: true; claims: VerifiedClaims<C> }
  | { ok: false; status: number; challenge: string; body: { error: string; message: string } };

/** A JSON scalar a claim can be required to hold. */
export type ClaimValue = string | number | boolean;

/**
 * What a route requires of the token's custom claims, by name: a value the claim must equal or,
 * when the claim is an array, contain (`{ roles: 'admin' }`); or a list of which any one will do
 * (`{ plan: ['pro', 'team'] }`). Every named claim must be satisfied.
 */
export interface AuthorizeOptions<C extends CustomClaims = CustomClaims> {
  claims?: { [K in keyof C & string]?: ClaimValue | readonly ClaimValue[] };
}

const BEARER = /^Bearer[ ]+([^\s]+)\s*$/i;

/**
 * The framework-independent half of the Fastify plugin and the Express middleware: reads the
 * bearer token (RFC 6750 §2.1, header only) and turns every refusal into a status, an RFC 6750
 * challenge and the same `{error, message}` body sessiond itself answers with. A valid token
 * whose claims miss what `options.claims` requires is 403 `forbidden` (RFC 6750 §3.1
 * `insufficient_scope`): the user is known, only not allowed.
 */
export async function authorize<C extends CustomClaims = Record<never, never>>(
  verifier: Verifier<C>,
  header: string | undefined,
  options: AuthorizeOptions<C> = {},
): Promise<Authorization<C>> {
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
  let claims: VerifiedClaims<C>;
  try {
    claims = await verifier.verify(token);
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
  const missing = unmetClaim(claims as Record<string, unknown>, options.claims ?? {});
  if (missing !== undefined) {
    return {
      ok: false,
      status: 403,
      challenge: `Bearer realm="sessiond", error="insufficient_scope"`,
      body: { error: 'forbidden', message: missing },
    };
  }
  return { ok: true, claims };
}

/** Why `claims` do not meet `required`, naming the first claim that fails; undefined if they do. */
function unmetClaim(
  claims: Record<string, unknown>,
  required: Record<string, ClaimValue | readonly ClaimValue[] | undefined>,
): string | undefined {
  for (const [name, wanted] of Object.entries(required)) {
    if (wanted === undefined) continue;
    const accepted: readonly ClaimValue[] = Array.isArray(wanted) ? wanted : [wanted as ClaimValue];
    const held = claims[name];
    const values: readonly unknown[] = Array.isArray(held) ? held : held === undefined ? [] : [held];
    if (!values.some((value) => accepted.includes(value as ClaimValue))) {
      const want = accepted.map((value) => JSON.stringify(value)).join(' or ');
      return `this route requires the claim "${name}" to be or include ${want}`;
    }
  }
  return undefined;
}
