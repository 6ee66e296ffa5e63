import type { AssuranceLevel } from '@sessiond/protocol';
import { matchRedirectURI, type RegisteredClient } from './client-registry.js';
import { ACR_VALUES_SUPPORTED } from './provider-metadata.js';

/** A validated authorization request (RFC 6749 §4.1.1, OpenID Connect Core §3.1.2.1). */
export interface AuthorizationRequest {
  clientId: string;
  /** The redirect URI as the client sent it (a loopback port may differ from the registered one). */
  redirectURI: string;
  /** Granted scopes, space-separated, in the order asked. */
  scope: string;
  state: string | undefined;
  nonce: string | undefined;
  /** RFC 7636 S256 challenge. */
  codeChallenge: string;
  /** `login`: the user must authenticate again, whatever the SSO session. */
  prompt: 'none' | 'login' | undefined;
  /** Seconds: the authentication may be at most this old. */
  maxAge: number | undefined;
  /** The lowest assurance level among `acr_values` sessiond knows; undefined without one. */
  acr: AssuranceLevel | undefined;
  /** Epoch ms: when sessiond received the request (prompt=login needs an authentication after it). */
  receivedAt: number;
  /** OpenID Core §3.1.2.1 `login_hint`: the sign-in page fills the email field with it (escaped). */
  loginHint?: string;
}

/** Authorization error codes (RFC 6749 §4.1.2.1, OpenID Connect Core §3.1.2.6). */
export type AuthorizationErrorCode =
  | 'invalid_request'
  | 'unauthorized_client'
  | 'unsupported_response_type'
  | 'invalid_scope'
  | 'login_required'
  | 'interaction_required'
  | 'request_not_supported'
  | 'request_uri_not_supported'
  | 'server_error';

export type ParsedAuthorizationRequest =
  | { kind: 'valid'; request: AuthorizationRequest }
  /** The redirect URI cannot be trusted (unknown client, unregistered redirect): never redirect. */
  | { kind: 'untrusted'; message: string }
  /** The redirect URI is trusted: the error goes back to the client there. */
  | {
      kind: 'error';
      redirectURI: string;
      state: string | undefined;
      error: AuthorizationErrorCode;
      description: string;
    };

const PKCE_CHALLENGE = /^[A-Za-z0-9_-]{43}$/;
const PROMPTS = new Set(['none', 'login', 'consent', 'select_account']);
/** Printable ASCII without `"` and `\`: what RFC 6749 Appendix A allows for state, scope tokens, nonce. */
const VSCHAR = /^[\x20-\x21\x23-\x5B\x5D-\x7E]{1,512}$/;

/**
 * Parses an authorization request's parameters (the query of a GET, the form of a POST; RFC 6749
 * §3.1: a parameter may not repeat, an empty one counts as absent). The client and redirect URI
 * are checked first: until both are known good, no error may be sent to the redirect URI (RFC 6749
 * §4.1.2.1), since that would make sessiond an open redirector.
 */
export function parseAuthorizationRequest(
  params: URLSearchParams,
  clients: readonly RegisteredClient[],
  now: number,
): ParsedAuthorizationRequest {
  const values = new Map<string, string>();
  const repeated = new Set<string>();
  for (const [name, value] of params) {
    if (values.has(name)) repeated.add(name);
    if (value !== '') values.set(name, value);
  }
  for (const name of ['client_id', 'redirect_uri']) {
    if (repeated.has(name)) return { kind: 'untrusted', message: `${name} appears more than once` };
  }
  const clientId = values.get('client_id');
  if (clientId === undefined) return { kind: 'untrusted', message: 'the request has no client_id' };
  const client = clients.find((candidate) => candidate.id === clientId);
  if (!client) return { kind: 'untrusted', message: 'the client_id is not registered with sessiond' };
  const asked = values.get('redirect_uri');
  // Always required, even for a client with one registered redirect URI (RFC 9700 §2.1, OpenID Core §3.1.2.1).
  if (asked === undefined) return { kind: 'untrusted', message: 'the request has no redirect_uri' };
  const redirectURI = matchRedirectURI(client, asked);
  if (redirectURI === undefined) {
    return { kind: 'untrusted', message: 'the redirect_uri is not registered for this client' };
  }
  const stateValue = repeated.has('state') ? undefined : values.get('state');
  const state = stateValue !== undefined && VSCHAR.test(stateValue) ? stateValue : undefined;
  const fail = (error: AuthorizationErrorCode, description: string): ParsedAuthorizationRequest => ({
    kind: 'error',
    redirectURI,
    state,
    error,
    description,
  });
  if (repeated.size > 0) return fail('invalid_request', `${[...repeated][0]} appears more than once`);
  if (stateValue !== undefined && state === undefined)
    return fail('invalid_request', 'state has characters RFC 6749 does not allow');
  // OpenID Core §3.1.2.6 names the errors for request objects, which this provider does not take.
  if (values.has('request')) return fail('request_not_supported', 'request objects are not supported');
  if (values.has('request_uri')) return fail('request_uri_not_supported', 'request_uri is not supported');
  const responseType = values.get('response_type');
  if (responseType === undefined) return fail('invalid_request', 'the request has no response_type');
  if (responseType !== 'code')
    return fail('unsupported_response_type', 'only response_type=code is supported');
  const responseMode = values.get('response_mode');
  if (responseMode !== undefined && responseMode !== 'query') {
    return fail('invalid_request', 'only response_mode=query is supported');
  }
  // PKCE for every client, confidential ones too (RFC 9700 §2.1.1); plain is refused (RFC 7636 §7.2).
  const codeChallenge = values.get('code_challenge');
  if (codeChallenge === undefined) return fail('invalid_request', 'code_challenge is required (PKCE, S256)');
  if (values.get('code_challenge_method') !== 'S256') {
    return fail('invalid_request', 'code_challenge_method must be S256');
  }
  if (!PKCE_CHALLENGE.test(codeChallenge)) {
    return fail('invalid_request', 'code_challenge must be a base64url SHA-256 (43 characters)');
  }
  const scopes = (values.get('scope') ?? '').split(' ').filter((token) => token !== '');
  if (scopes.length === 0) return fail('invalid_scope', 'the request names no scope');
  const refused = scopes.find((scope) => !client.scopes.includes(scope));
  if (refused !== undefined) return fail('invalid_scope', `scope ${refused} is not allowed for this client`);
  // Plain OAuth (no openid) is allowed: the app gets a session and tokens, no ID token.
  const openID = scopes.includes('openid');
  const nonce = values.get('nonce');
  if (nonce !== undefined && !VSCHAR.test(nonce))
    return fail('invalid_request', 'nonce has characters RFC 6749 does not allow');
  if (nonce !== undefined && !openID) return fail('invalid_request', 'nonce needs the openid scope');
  const prompts = (values.get('prompt') ?? '').split(' ').filter((token) => token !== '');
  const unknownPrompt = prompts.find((prompt) => !PROMPTS.has(prompt));
  if (unknownPrompt !== undefined) return fail('invalid_request', `prompt=${unknownPrompt} is not supported`);
  // OpenID Core §3.1.2.1: none with any other value is an error.
  if (prompts.includes('none') && prompts.length > 1) {
    return fail('invalid_request', 'prompt=none cannot be combined with other values');
  }
  const maxAgeText = values.get('max_age');
  if (maxAgeText !== undefined && !/^\d{1,10}$/.test(maxAgeText)) {
    return fail('invalid_request', 'max_age must be a non-negative integer (seconds)');
  }
  const loginHint = values.get('login_hint');
  const known = (values.get('acr_values') ?? '')
    .split(' ')
    .filter((value): value is AssuranceLevel => (ACR_VALUES_SUPPORTED as readonly string[]).includes(value));
  return {
    kind: 'valid',
    request: {
      clientId: client.id,
      redirectURI,
      scope: [...new Set(scopes)].join(' '),
      state,
      nonce,
      codeChallenge,
      // consent and select_account are no-ops: first-party apps, one account per browser.
      prompt: prompts.includes('none') ? 'none' : prompts.includes('login') ? 'login' : undefined,
      maxAge: maxAgeText === undefined ? undefined : Number(maxAgeText),
      // acr_values is a preference list: the weakest level listed is enough.
      acr: known.includes('aal1') ? 'aal1' : known.includes('aal2') ? 'aal2' : undefined,
      receivedAt: now,
      // A hint only: never trusted, at most an email's length.
      ...(loginHint !== undefined && loginHint.length <= 254 ? { loginHint } : {}),
    },
  };
}
