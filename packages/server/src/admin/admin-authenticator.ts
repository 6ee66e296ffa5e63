import { SessiondError } from '../errors.js';
import { constantTimeEqual } from '../lib/crypto.js';
import { adminKeyHash, isAdminKeyForm } from './admin-key.js';
import type { AdminStore } from './admin-store.js';

/** Which admin key a request was authenticated by; never the key itself. */
export interface AdminIdentity {
  /** `config:<n>` for the n-th configured key (from 1), else the created key's id. */
  readonly keyId: string;
  readonly source: 'config' | 'created';
}

const BEARER = /^Bearer[ ]+(\S+)[ ]*$/i;

/**
 * Checks `Authorization: Bearer <admin key>`. The key is hashed at once; configured keys are
 * known only by their hashes (hashed when the configuration loads), every one of them compared in
 * constant time, and created keys are found by the unique index on their hash. Every refusal is
 * the same code, `admin_key_invalid`, with a message that says which check failed but nothing
 * about the keys that exist.
 */
export class AdminAuthenticator {
  constructor(
    private readonly store: AdminStore,
    private readonly configuredHashes: readonly string[],
  ) {}

  async authenticate(authorization: string | undefined): Promise<AdminIdentity> {
    if (authorization === undefined) throw refused('an admin API key is required', { presented: false });
    const key = BEARER.exec(authorization)?.[1];
    if (key === undefined) throw refused('authorization header is not Bearer <admin key>');
    if (!isAdminKeyForm(key)) throw refused('not an admin API key');
    return this.authenticateHash(adminKeyHash(key));
  }

  /**
   * The key whose SHA-256 is `hash`, checked as `authenticate` checks a presented key: the admin
   * dashboard's cookie keeps the hash (sealed) and passes it here on every request, so a key
   * removed from the configuration or deleted stops working at once.
   */
  async authenticateHash(hash: string): Promise<AdminIdentity> {
    // No early exit: the time taken does not say which configured key, if any, matched.
    let configured = 0;
    for (const [index, candidate] of this.configuredHashes.entries()) {
      if (constantTimeEqual(candidate, hash)) configured = index + 1;
    }
    if (configured > 0) return { keyId: `config:${configured}`, source: 'config' };
    const created = await this.store.findKeyByHash(hash);
    if (created !== undefined && constantTimeEqual(created.keyHash, hash)) {
      return { keyId: created.id, source: 'created' };
    }
    throw refused('admin API key is not valid');
  }
}

/** 401 with an RFC 6750 §3 challenge: `invalid_token` once a credential was presented. */
function refused(message: string, options: { presented: boolean } = { presented: true }): SessiondError {
  const challenge = options.presented
    ? `Bearer realm="sessiond-admin", error="invalid_token", error_description="${message}"`
    : 'Bearer realm="sessiond-admin"';
  return new SessiondError('admin_key_invalid', message, { headers: { 'www-authenticate': challenge } });
}
