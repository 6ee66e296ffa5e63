import { constantTimeEqual } from '../lib/crypto.js';

/**
 * Authenticates a registered resource server by HTTP Basic (client_secret_basic, RFC 6749
 * §2.3.1: id and secret are form-urlencoded before base64). Returns its id, or undefined.
 */
export function authenticateResourceServer(
  header: string | undefined,
  registered: ReadonlyArray<{ readonly id: string; readonly secret: string }>,
): string | undefined {
  const match = header ? /^Basic[ ]+([A-Za-z0-9+/=]+)\s*$/i.exec(header) : null;
  if (!match?.[1]) return undefined;
  const decoded = Buffer.from(match[1], 'base64').toString('utf8');
  const colon = decoded.indexOf(':');
  if (colon === -1) return undefined;
  let id: string;
  let secret: string;
  try {
    id = formDecode(decoded.slice(0, colon));
    secret = formDecode(decoded.slice(colon + 1));
  } catch {
    return undefined;
  }
  const server = registered.find((candidate) => candidate.id === id);
  // Compare against a dummy when the id is unknown, so timing does not reveal which ids exist.
  const ok = constantTimeEqual(secret, server?.secret ?? '\u0000unregistered');
  return server && ok ? server.id : undefined;
}

function formDecode(value: string): string {
  return decodeURIComponent(value.replace(/\+/g, ' '));
}
