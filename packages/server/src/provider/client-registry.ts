import { z } from 'zod';

/** Scopes sessiond's OpenID provider knows (OpenID Connect Core §5.4, §11). */
export const SUPPORTED_SCOPES = ['openid', 'profile', 'email', 'offline_access'] as const;

/** The id of sessiond's own browser session at the provider (the sign-in page's), never an app's. */
export const SSO_CLIENT_ID = 'sessiond';

/**
 * An app registered with sessiond (SESSIOND_CLIENTS). A bare id (the comma-separated form) is a
 * first-party public client of the JSON API and the refresh grant, with no redirect URIs: it
 * cannot use the authorization endpoint. The JSON form adds what OpenID Connect needs.
 */
export interface RegisteredClient {
  readonly id: string;
  readonly name: string;
  /** `public`: no secret, PKCE proves the caller (SPAs, native apps). `confidential`: a server with a secret. */
  readonly type: 'public' | 'confidential';
  /** SHA-256 (hex) of a confidential client's secret; the secret itself is never configured. */
  readonly secretHash: string | undefined;
  /** Matched exactly, except a loopback redirect's port (RFC 8252 §7.3). */
  readonly redirectURIs: readonly string[];
  readonly postLogoutRedirectURIs: readonly string[];
  /** The scopes it may ask for. */
  readonly scopes: readonly string[];
  /** OpenID Back-Channel Logout 1.0: where its logout tokens go. */
  readonly backchannelLogoutURI: string | undefined;
}

const CLIENT_ID = z.string().regex(/^[A-Za-z0-9._~-]{1,100}$/, 'client id must be 1-100 of [A-Za-z0-9._~-]');

/** Why `value` cannot be a redirect URI (RFC 6749 §3.1.2, RFC 8252 §7, RFC 9700 §4.1), or undefined. */
export function redirectURIProblem(value: string): string | undefined {
  if (!URL.canParse(value)) return `${value} is not an absolute URI`;
  const url = new URL(value);
  if (url.hash !== '' || value.includes('#')) return `${value} has a fragment`;
  if (url.username || url.password) return `${value} carries credentials`;
  if (url.protocol === 'https:') return undefined;
  if (url.protocol === 'http:') {
    // Plain http only to the device itself (RFC 8252 §7.3, §8.3: an IP literal, not "localhost").
    return isLoopbackHost(url.hostname)
      ? undefined
      : `${value}: http is allowed only for a loopback IP (127.0.0.1 or [::1])`;
  }
  // A native app's private-use scheme: reverse domain name of the app (RFC 8252 §7.1).
  if (/^[a-z][a-z0-9+.-]*\.[a-z0-9+.-]+:$/.test(url.protocol)) return undefined;
  return `${value}: the scheme must be https, http on a loopback IP, or a reverse-domain private-use scheme`;
}

export function isLoopbackHost(hostname: string): boolean {
  return hostname === '127.0.0.1' || hostname === '[::1]';
}

const RedirectURI = z.string().superRefine((value, context) => {
  const problem = redirectURIProblem(value);
  if (problem) context.addIssue({ code: 'custom', message: problem });
});

const ClientEntry = z
  .strictObject({
    id: CLIENT_ID,
    name: z.string().min(1).max(100).optional(),
    type: z.enum(['public', 'confidential']).default('public'),
    secret_sha256: z
      .string()
      .regex(/^[0-9a-f]{64}$/, 'secret_sha256 must be the SHA-256 of the secret, 64 lower-case hex digits')
      .optional(),
    redirect_uris: z.array(RedirectURI).max(50).default([]),
    post_logout_redirect_uris: z.array(RedirectURI).max(50).default([]),
    scopes: z
      .array(z.enum(SUPPORTED_SCOPES))
      .min(1)
      .default([...SUPPORTED_SCOPES]),
    backchannel_logout_uri: z
      .url({ protocol: /^https?$/ })
      .refine((value) => !value.includes('#'), 'backchannel_logout_uri must not have a fragment')
      .optional(),
  })
  .superRefine((entry, context) => {
    if (entry.type === 'confidential' && entry.secret_sha256 === undefined) {
      context.addIssue({ code: 'custom', message: `${entry.id}: a confidential client needs secret_sha256` });
    }
    if (entry.type === 'public' && entry.secret_sha256 !== undefined) {
      context.addIssue({ code: 'custom', message: `${entry.id}: a public client has no secret` });
    }
  });

const ClientList = z.array(ClientEntry).min(1, 'name at least one client');

/**
 * Parses SESSIOND_CLIENTS (or the contents of SESSIOND_CLIENTS_FILE): a comma-separated list of
 * ids, or a JSON array of client objects. Throws an Error whose message lists every problem.
 */
export function parseClientRegistry(text: string): RegisteredClient[] {
  const trimmed = text.trim();
  const clients = trimmed.startsWith('[') ? parseJSONClients(trimmed) : parseIdList(trimmed);
  const ids = new Set<string>();
  for (const client of clients) {
    if (client.id === SSO_CLIENT_ID) throw new Error(`"${SSO_CLIENT_ID}" is sessiond's own client id`);
    if (ids.has(client.id)) throw new Error(`client "${client.id}" is registered twice`);
    ids.add(client.id);
  }
  return clients;
}

function parseIdList(text: string): RegisteredClient[] {
  const ids = text
    .split(',')
    .map((id) => id.trim())
    .filter((id) => id.length > 0);
  if (ids.length === 0) throw new Error('name at least one client id');
  return ids.map((id) => {
    const parsed = CLIENT_ID.safeParse(id);
    if (!parsed.success) throw new Error(`"${id}": ${parsed.error.issues[0]?.message}`);
    return firstPartyClient(id);
  });
}

function parseJSONClients(text: string): RegisteredClient[] {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (error) {
    throw new Error(`not valid JSON: ${(error as Error).message}`);
  }
  const parsed = ClientList.safeParse(json);
  if (!parsed.success) {
    throw new Error(
      parsed.error.issues.map((issue) => `${issue.path.join('.')}: ${issue.message}`).join('; '),
    );
  }
  return parsed.data.map((entry) =>
    Object.freeze({
      id: entry.id,
      name: entry.name ?? entry.id,
      type: entry.type,
      secretHash: entry.secret_sha256,
      redirectURIs: Object.freeze(entry.redirect_uris),
      postLogoutRedirectURIs: Object.freeze(entry.post_logout_redirect_uris),
      scopes: Object.freeze(entry.scopes),
      backchannelLogoutURI: entry.backchannel_logout_uri,
    }),
  );
}

/** A bare id: the JSON API and the refresh grant, no authorization endpoint. */
function firstPartyClient(id: string): RegisteredClient {
  return Object.freeze({
    id,
    name: id,
    type: 'public',
    secretHash: undefined,
    redirectURIs: Object.freeze([]),
    postLogoutRedirectURIs: Object.freeze([]),
    scopes: Object.freeze([...SUPPORTED_SCOPES]),
    backchannelLogoutURI: undefined,
  });
}

/**
 * The registered redirect URI `requested` names, if any: exact string match (RFC 9700 §4.1.3),
 * except that a loopback redirect matches whatever port the native app listens on (RFC 8252 §7.3).
 */
export function matchRedirectURI(client: RegisteredClient, requested: string): string | undefined {
  if (client.redirectURIs.includes(requested)) return requested;
  if (!URL.canParse(requested)) return undefined;
  const asked = new URL(requested);
  if (asked.protocol !== 'http:' || !isLoopbackHost(asked.hostname)) return undefined;
  return client.redirectURIs.find((registered) => {
    const url = new URL(registered);
    return (
      url.protocol === 'http:' &&
      url.hostname === asked.hostname &&
      url.pathname === asked.pathname &&
      url.search === asked.search
    );
  })
    ? requested
    : undefined;
}
