import { generateKeyPairSync, type KeyObject, randomUUID } from 'node:crypto';

export interface SigningKey {
  kid: string;
  privateKey: KeyObject;
  publicKey: KeyObject;
}

/**
 * One 2048-bit RSA key per server process, generated at start-up and kept as KeyObjects so no
 * request pays for PEM parsing: the best case a real server could reach.
 */
export function createSigningKey(): SigningKey {
  const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  return { kid: randomUUID(), privateKey, publicKey };
}
