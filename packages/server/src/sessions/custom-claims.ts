import { SessiondError } from '../errors.js';

/**
 * Claim names an app may never set: those sessiond writes itself, and those with a meaning in
 * JWT (RFC 7519 §4.1), RFC 9068 §2.2, RFC 8176 / RFC 7800 / RFC 8693, and OpenID Connect Core
 * (ID token claims §2, standard user claims §5.1). A verifier trusts these for what the
 * standards say they are, so an app's data must not be able to pose as one. RFC 9068 §2.2.3.1's
 * authorization attributes (`roles`, `groups`, `entitlements`) are exactly what custom claims
 * are for, and stay allowed.
 */
export const RESERVED_CLAIM_NAMES: ReadonlySet<string> = new Set([
  // RFC 7519 and RFC 9068
  'iss',
  'sub',
  'aud',
  'exp',
  'nbf',
  'iat',
  'jti',
  'client_id',
  'scope',
  'auth_time',
  'acr',
  'amr',
  // sessiond's own
  'sid',
  'did',
  // RFC 7800, RFC 8693, RFC 7515 header names that libraries confuse with claims
  'cnf',
  'act',
  'may_act',
  'typ',
  'cty',
  'alg',
  'kid',
  // OpenID Connect Core §2 and §5.1
  'nonce',
  'azp',
  'at_hash',
  'c_hash',
  's_hash',
  'sub_jwk',
  'events',
  'name',
  'given_name',
  'family_name',
  'middle_name',
  'nickname',
  'preferred_username',
  'profile',
  'picture',
  'website',
  'email',
  'email_verified',
  'gender',
  'birthdate',
  'zoneinfo',
  'locale',
  'phone_number',
  'phone_number_verified',
  'address',
  'updated_at',
]);

/** A claim name: a letter, then up to 63 letters, digits, `_` or `-`. */
const CLAIM_NAME = /^[A-Za-z][A-Za-z0-9_-]{0,63}$/;

/** Why `name` cannot be a custom claim; undefined when it can. */
export function claimNameProblem(name: string): string | undefined {
  if (!CLAIM_NAME.test(name))
    return `"${name}" is not a claim name (a letter, then up to 63 of A-Z a-z 0-9 _ -)`;
  if (RESERVED_CLAIM_NAMES.has(name)) {
    return `"${name}" is a reserved claim name (JWT, RFC 9068 or OpenID Connect): choose another`;
  }
  return undefined;
}

export interface CustomClaimsPolicy {
  /** SESSIOND_CUSTOM_CLAIMS: the only names a session may carry. */
  readonly names: readonly string[];
  /** SESSIOND_CUSTOM_CLAIMS_MAX_BYTES: UTF-8 bytes of the claims object as JSON. */
  readonly maxBytes: number;
}

/**
 * Checks claims an app asks a session to carry: allow-listed names only, JSON values, at most
 * `maxBytes` in all. Returns them as they will be stored; an empty object means none (null).
 */
export function checkCustomClaims(
  claims: Readonly<Record<string, unknown>>,
  policy: CustomClaimsPolicy,
): Readonly<Record<string, unknown>> | null {
  const names = Object.keys(claims);
  for (const name of names) {
    // Reserved first: the clearer message, even if an operator somehow listed one.
    if (RESERVED_CLAIM_NAMES.has(name)) {
      throw new SessiondError('claim_not_allowed', `"${name}" is a reserved claim name and cannot be set`);
    }
    if (!policy.names.includes(name)) {
      const allowed =
        policy.names.length > 0 ? policy.names.join(', ') : 'none (SESSIOND_CUSTOM_CLAIMS is empty)';
      throw new SessiondError('claim_not_allowed', `"${name}" is not a custom claim; allowed: ${allowed}`);
    }
  }
  if (names.length === 0) return null;
  const bytes = Buffer.byteLength(JSON.stringify(claims), 'utf8');
  if (bytes > policy.maxBytes) {
    throw new SessiondError(
      'claims_too_large',
      `custom claims are ${bytes} bytes of JSON; at most ${policy.maxBytes} (SESSIOND_CUSTOM_CLAIMS_MAX_BYTES)`,
    );
  }
  return Object.freeze({ ...claims });
}
