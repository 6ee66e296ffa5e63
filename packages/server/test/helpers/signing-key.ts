import { createPrivateKey, type KeyObject } from 'node:crypto';
import { SecretBox } from '../../src/lib/crypto.js';
import type { SessionStore } from '../../src/store/session-store.js';
import { TEST_SECRET } from './test-server.js';

/** The server's current signing key, unsealed the way the server does, to forge validly signed bad tokens. */
export async function currentSigningKey(
  store: SessionStore,
): Promise<{ kid: string; privateKey: KeyObject; jwk: Record<string, unknown> }> {
  const [key] = (await store.listSigningKeys()).filter((k) => k.retiredAt === null);
  if (!key) throw new Error('no signing key');
  const pem = new SecretBox(TEST_SECRET, 'signing-keys').open(key.privateKeySealed);
  return { kid: key.kid, privateKey: createPrivateKey(pem), jwk: JSON.parse(key.publicJWK) };
}
