import { createHash, timingSafeEqual } from 'node:crypto';
import { OAuthError } from '../oauth/oauth-error.js';
import { basicCredentials } from '../oauth/resource-server-auth.js';
import type { RegisteredClient } from './client-registry.js';

/** A secret no client has: compared against when the id is unknown, so timing tells nothing. */
const NO_SECRET_HASH = '0'.repeat(64);

/**
 * Authenticates the client of a token or revocation request (RFC 6749 §2.3): a public client
 * names itself with `client_id`; a confidential one must prove its secret with HTTP Basic
 * (client_secret_basic) or `client_secret` in the form (client_secret_post), never both (§2.3).
 * Secrets are compared as SHA-256 digests in constant time.
 */
export function authenticateClient(
  input: { authorization: string | undefined; parameters: Map<string, string> },
  clients: readonly RegisteredClient[],
): RegisteredClient {
  const { parameters } = input;
  const formSecret = parameters.get('client_secret');
  const formId = parameters.get('client_id');
  if (input.authorization !== undefined && /^basic /i.test(input.authorization)) {
    if (formSecret !== undefined) {
      throw new OAuthError('invalid_request', 'use one client authentication method, not two');
    }
    const credentials = basicCredentials(input.authorization);
    if (!credentials) throw new OAuthError('invalid_client', 'malformed HTTP Basic credentials');
    if (formId !== undefined && formId !== credentials.id) {
      throw new OAuthError('invalid_request', 'client_id differs from the HTTP Basic client');
    }
    return confidential(credentials.id, credentials.secret, clients);
  }
  if (formId === undefined) throw new OAuthError('invalid_request', 'missing parameter client_id');
  if (formSecret !== undefined) return confidential(formId, formSecret, clients);
  const client = clients.find((candidate) => candidate.id === formId);
  if (!client) throw new OAuthError('invalid_client', 'unknown client');
  if (client.type === 'confidential') {
    throw new OAuthError('invalid_client', 'a confidential client must authenticate with its secret');
  }
  return client;
}

function confidential(id: string, secret: string, clients: readonly RegisteredClient[]): RegisteredClient {
  const client = clients.find((candidate) => candidate.id === id);
  const presented = createHash('sha256').update(secret, 'utf8').digest();
  const expected = Buffer.from(client?.secretHash ?? NO_SECRET_HASH, 'hex');
  const matches = expected.length === presented.length && timingSafeEqual(presented, expected);
  if (client?.type !== 'confidential' || !matches) {
    throw new OAuthError('invalid_client', 'client authentication failed');
  }
  return client;
}
