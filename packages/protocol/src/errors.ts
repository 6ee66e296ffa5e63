/**
 * Every error code sessiond puts on the wire, with its HTTP status. The code is the contract:
 * clients branch on `error`, never on `message`. OAuth endpoints answer with the RFC 6749 §5.2
 * codes instead (see `OAUTH_ERROR_CODES`).
 */
export const ERROR_STATUS = {
  invalid_request: 400,
  malformed_json: 400,
  weak_password: 400,
  /** A state operation is malformed or clashes with the document it targets. */
  invalid_operation: 400,
  /** A sync WebSocket message that is not JSON or not a message of the protocol. */
  invalid_message: 400,
  totp_not_enrolled: 400,
  /** A custom claim the configuration does not allow (SESSIOND_CUSTOM_CLAIMS), or a reserved name. */
  claim_not_allowed: 400,
  token_missing: 401,
  token_invalid: 401,
  token_expired: 401,
  /** From @sessiond/verify: the token's session was revoked or ended. */
  token_revoked: 401,
  invalid_credentials: 401,
  /** A resource server's or backend's credentials (HTTP Basic) are missing or wrong. */
  invalid_client: 401,
  refresh_token_invalid: 401,
  refresh_token_reused: 401,
  session_expired: 401,
  session_revoked: 401,
  step_up_required: 401,
  /**
   * Adding, replacing or removing a factor needs a step-up with an existing factor within the
   * last few minutes (SESSIOND_REAUTH_MAX_AGE_SECONDS), whatever the risk flag says.
   */
  reauthentication_required: 401,
  // Passkeys and second factors (issue 14, docs/decisions/024-step-up-factors.md).
  /**
   * The password was right but the sign-in looked suspicious: no session until a second factor
   * passes. The body names the accepted `factors` and a `pending_token` to finish with.
   */
  second_factor_required: 401,
  /** A step-up with a factor that cannot satisfy it (the password, on a session signed in with it recently). */
  factor_not_accepted: 401,
  /** The WebAuthn response did not verify (origin, RP id, signature, user verification, counter). */
  passkey_invalid: 401,
  /** A ceremony (WebAuthn challenge, email code, pending sign-in) is unknown, expired, used, or another's. */
  ceremony_invalid: 400,
  /** The factor cannot be used here: no passkey registered, no email address, no mail delivery configured. */
  factor_unavailable: 409,
  passkey_not_found: 404,
  /** That authenticator's passkey is already registered to this account. */
  passkey_exists: 409,
  /** `/api/admin/...` without an admin API key, with one of the wrong form, or with an unknown one. */
  admin_key_invalid: 401,
  forbidden: 403,
  /** A backend asserted an `acr` it is not configured to (`aal2` needs SESSIOND_BACKENDS_AAL2). */
  assurance_not_allowed: 403,
  /** A cookie-authenticated state change without `x-sessiond-csrf: 1`, or from a foreign Origin. */
  csrf_required: 403,
  /** A WebSocket handshake from a browser Origin that is neither the issuer's nor allowed. */
  origin_not_allowed: 403,
  not_found: 404,
  session_not_found: 404,
  device_not_found: 404,
  /** An admin route names a user id that does not exist. */
  user_not_found: 404,
  email_taken: 409,
  /** A backend's external id is already linked to another sessiond user. */
  external_id_taken: 409,
  payload_too_large: 413,
  /** The operation would grow a state document past SESSIOND_STATE_MAX_BYTES. */
  state_too_large: 413,
  /** The user's state would pass the per-user namespace count or total byte quota. */
  state_quota_exceeded: 413,
  /** Custom claims larger than SESSIOND_CUSTOM_CLAIMS_MAX_BYTES as JSON. */
  claims_too_large: 413,
  unsupported_media_type: 415,
  /** `GET /api/sync` without a WebSocket upgrade. */
  upgrade_required: 426,
  rate_limited: 429,
  /** The request's header section is larger than the server accepts. */
  request_header_too_large: 431,
  // Upstream OpenID Connect sign-in (issue 13, docs/decisions/023-upstream-openid-sign-in.md).
  /** `/api/auth/oidc/:provider/...` names no provider of SESSIOND_OIDC_PROVIDERS. */
  oidc_provider_unknown: 404,
  /** The `redirect` of an OpenID sign-in is not on SESSIOND_OIDC_REDIRECTS (no open redirect). */
  redirect_not_allowed: 400,
  /** The callback's login state is missing, expired, altered, or not this browser's. */
  oidc_state_invalid: 400,
  /** The provider answered the authorization request with an error (the user cancelled, ...). */
  oidc_provider_error: 401,
  /** The provider's answer did not validate (code, ID token signature, nonce, issuer, ...). */
  oidc_login_failed: 401,
  /** A native app's one-time sign-in code is unknown, expired, or its PKCE verifier is wrong. */
  oidc_code_invalid: 400,
  /** A native app's one-time sign-in code was used before: the session it opened is revoked. */
  oidc_code_reused: 400,
  /** The provider could not be reached or discovered. */
  oidc_provider_unavailable: 502,
  internal_error: 500,
  service_unavailable: 503,
  /** The store cannot take the write (disk full, database unreachable): nothing was acknowledged. */
  storage_unavailable: 503,
  /** From @sessiond/verify: revocation state is unknown and the verifier was told to fail closed. */
  verifier_unavailable: 503,
} as const;

export type ErrorCode = keyof typeof ERROR_STATUS;

export const ERROR_CODES = Object.keys(ERROR_STATUS) as ErrorCode[];

/** RFC 6749 §5.2 (token endpoint) and RFC 7009 §2.2.1 codes used by `/oauth/*`. */
export const OAUTH_ERROR_CODES = [
  'invalid_request',
  'invalid_client',
  'invalid_grant',
  'unauthorized_client',
  'unsupported_grant_type',
  'invalid_scope',
  'unsupported_token_type',
] as const;

export type OAuthErrorCode = (typeof OAUTH_ERROR_CODES)[number];

/** The JSON body of every non-OAuth error response. */
export interface ErrorBody {
  error: ErrorCode;
  message: string;
}

export function isErrorCode(value: unknown): value is ErrorCode {
  return typeof value === 'string' && Object.hasOwn(ERROR_STATUS, value);
}
