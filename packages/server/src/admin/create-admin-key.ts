import { uuidv7 } from '../lib/ids.js';
import { adminKeyHash, newAdminKey } from './admin-key.js';
import type { AdminStore } from './admin-store.js';

/** 1 to 100 characters, no control characters: it is printed in listings. */
const NAME = /^[^\p{Cc}]{1,100}$/u;

export function isAdminKeyName(name: string): boolean {
  return NAME.test(name);
}

/**
 * Creates an admin key (`sessiond admin create-key`): stores its SHA-256 and a name, and returns
 * the key, which exists nowhere else from then on. A running server accepts it at once.
 */
export async function createAdminKey(
  store: AdminStore,
  input: { name: string; now: number },
): Promise<{ id: string; name: string; key: string }> {
  if (!isAdminKeyName(input.name))
    throw new Error('a key name is 1 to 100 characters, without control characters');
  const key = newAdminKey();
  const id = uuidv7(input.now);
  await store.addKey({ id, keyHash: adminKeyHash(key), name: input.name, createdAt: input.now });
  return { id, name: input.name, key };
}
