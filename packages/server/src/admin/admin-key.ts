import { randomToken, sha256 } from '../lib/crypto.js';

/**
 * Admin API keys. Created keys are `sk_admin_` + 256 random bits in base64url (43 characters):
 * the prefix lets secret scanners and people recognise one. Configured keys
 * (SESSIOND_ADMIN_API_KEYS) may be any string of the same alphabet from 32 to 256 characters, so
 * that an operator's existing secret fits; both are kept only as their SHA-256.
 */
export const ADMIN_KEY_PREFIX = 'sk_admin_';

/**
 * What can be an admin key at all: RFC 6750's b64token alphabet (it travels as a Bearer
 * credential), 32 to 256 characters. Anything else is refused before any lookup.
 */
const ADMIN_KEY_FORM = /^[A-Za-z0-9._~+/-]{32,256}={0,2}$/;

export function isAdminKeyForm(value: string): boolean {
  return ADMIN_KEY_FORM.test(value);
}

/** A new admin key; the caller shows it once and stores only `adminKeyHash(key)`. */
export function newAdminKey(): string {
  return randomToken(ADMIN_KEY_PREFIX);
}

/** SHA-256 as base64url, the form in `admin_keys.key_hash` and in the configuration. */
export function adminKeyHash(key: string): string {
  return sha256(key);
}
