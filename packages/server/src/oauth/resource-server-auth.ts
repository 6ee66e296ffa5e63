import { constantTimeEqual, sha256 } from '../lib/crypto.js';

/**
 * A caller registered by `id:secret` in the configuration: a resource server
 * (SESSIOND_RESOURCE_SERVERS) or a backend (SESSIOND_BACKENDS). Only the secret's SHA-256 is
 * kept, so a heap dump or a logged config object does not hand the secret out.
 */
export interface BasicClient {
  readonly id: string;
  /** SHA-256 (base64url) of the secret. */
  readonly secretHash: string;
}

/** A registered caller from its configured id and secret. */
export function basicClient(id: string, secret: string): BasicClient {
  return Object.freeze({ id, secretHash: sha256(secret) });
}

/**
 * Authenticates a registered caller by HTTP Basic (client_secret_basic, RFC 6749 §2.3.1: id and
 * secret are form-urlencoded before base64). Returns the caller, or undefined.
 */
export function authenticateBasicClient<C extends BasicClient>(
  header: string | undefined,
  registered: readonly C[],
): C | undefined {
  const credentials = basicCredentials(header);
  if (!credentials) return undefined;
  const client = registered.find((candidate) => candidate.id === credentials.id);
  // Compare against a dummy when the id is unknown, so timing does not reveal which ids exist.
  const ok = constantTimeEqual(sha256(credentials.secret), client?.secretHash ?? '\u0000unregistered');
  return client && ok ? client : undefined;
}

/** The id and secret of an HTTP Basic header (RFC 6749 §2.3.1: each form-urlencoded), or undefined. */
export function basicCredentials(header: string | undefined): { id: string; secret: string } | undefined {
  const match = header ? /^Basic[ ]+([A-Za-z0-9+/=]+)\s*$/i.exec(header) : null;
  if (!match?.[1]) return undefined;
  const decoded = Buffer.from(match[1], 'base64').toString('utf8');
  const colon = decoded.indexOf(':');
  if (colon === -1) return undefined;
  try {
    return { id: formDecode(decoded.slice(0, colon)), secret: formDecode(decoded.slice(colon + 1)) };
  } catch {
    return undefined;
  }
}

function formDecode(value: string): string {
  return decodeURIComponent(value.replace(/\+/g, ' '));
}
