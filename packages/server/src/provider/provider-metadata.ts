import { SUPPORTED_SCOPES } from './client-registry.js';

/** The assurance levels an authorization request may ask for with `acr_values` (NIST SP 800-63B). */
export const ACR_VALUES_SUPPORTED = ['aal1', 'aal2'] as const;

/** The claims an ID token or the userinfo endpoint may carry (OpenID Connect Core §2, §5.1). */
const CLAIMS_SUPPORTED = [
  'iss',
  'sub',
  'aud',
  'azp',
  'exp',
  'iat',
  'auth_time',
  'nonce',
  'acr',
  'amr',
  'sid',
  'at_hash',
  'email',
  'email_verified',
] as const;

/**
 * The provider's metadata. One document serves both `/.well-known/openid-configuration`
 * (OpenID Connect Discovery 1.0) and `/.well-known/oauth-authorization-server` (RFC 8414), so the
 * two can never disagree: RFC 8414 §2 lets an authorization server publish OpenID's fields too.
 */
export function providerMetadata(input: { issuer: string }): Record<string, unknown> {
  const { issuer } = input;
  return {
    issuer,
    authorization_endpoint: `${issuer}/oauth/authorize`,
    token_endpoint: `${issuer}/oauth/token`,
    userinfo_endpoint: `${issuer}/oauth/userinfo`,
    end_session_endpoint: `${issuer}/oauth/logout`,
    revocation_endpoint: `${issuer}/oauth/revoke`,
    introspection_endpoint: `${issuer}/oauth/introspect`,
    jwks_uri: `${issuer}/.well-known/jwks.json`,
    scopes_supported: [...SUPPORTED_SCOPES],
    response_types_supported: ['code'],
    response_modes_supported: ['query'],
    grant_types_supported: ['authorization_code', 'refresh_token'],
    subject_types_supported: ['public'],
    id_token_signing_alg_values_supported: ['RS256'],
    code_challenge_methods_supported: ['S256'],
    token_endpoint_auth_methods_supported: ['none', 'client_secret_basic', 'client_secret_post'],
    revocation_endpoint_auth_methods_supported: ['none', 'client_secret_basic', 'client_secret_post'],
    introspection_endpoint_auth_methods_supported: ['client_secret_basic'],
    acr_values_supported: [...ACR_VALUES_SUPPORTED],
    claims_supported: [...CLAIMS_SUPPORTED],
    claims_parameter_supported: false,
    request_parameter_supported: false,
    request_uri_parameter_supported: false,
    prompt_values_supported: ['none', 'login', 'consent', 'select_account'],
    // RFC 9207: every authorization response carries `iss`.
    authorization_response_iss_parameter_supported: true,
    backchannel_logout_supported: true,
    backchannel_logout_session_supported: true,
    sessiond_revocation_stream_endpoint: `${issuer}/api/revocations/stream`,
  };
}
