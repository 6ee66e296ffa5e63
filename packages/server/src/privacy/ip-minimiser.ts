import { createHmac, hkdfSync } from 'node:crypto';
import { canonicalAddress, networkOf } from '../risk/signals.js';

/** SESSIOND_IP_STORAGE: how a client's IP is kept wherever sessiond stores one (decision 035). */
export const IP_STORAGE_MODES = ['full', 'truncated', 'hashed'] as const;
export type IPStorageMode = (typeof IP_STORAGE_MODES)[number];

/** What a minimised mode stores for a request "address" that is not an IP (a bad X-Forwarded-For). */
export const UNKNOWN_ADDRESS = 'unknown';

/**
 * Turns a request's IP into the form every store keeps (sessions, devices, audit log, the risk
 * history, the login throttle, events and webhooks): applied once, where the request context is
 * built, so nothing downstream ever holds more.
 * - `full`: the address as the socket or the trusted proxy gave it.
 * - `truncated`: its network, `203.0.113.0/24` or `2001:db8:1::/48`.
 * - `hashed`: `h:<network>:<address>`, each an HMAC-SHA-256 (128 bits, base64url) under a key
 *   derived from the master secret. Equal networks give equal prefixes, so the risk engine still
 *   tells networks apart (`networkOf`); without the secret, the 2^32 IPv4 addresses cannot be
 *   tried one by one.
 */
export class IPMinimiser {
  readonly #key: Buffer | undefined;

  constructor(
    readonly mode: IPStorageMode,
    masterSecret: string,
  ) {
    this.#key =
      mode === 'hashed'
        ? Buffer.from(hkdfSync('sha256', masterSecret, 'sessiond', 'ip-storage', 32))
        : undefined;
  }

  /** The stored form of `ip`. */
  minimise(ip: string): string {
    if (this.mode === 'full') return ip;
    const address = canonicalAddress(ip);
    const network = address === null ? null : networkOf(address);
    if (address === null || network === null) return UNKNOWN_ADDRESS;
    if (this.mode === 'truncated') return network;
    return `h:${this.#hash(`network|${network}`)}:${this.#hash(`address|${address}`)}`;
  }

  #hash(value: string): string {
    return createHmac('sha256', this.#key as Buffer)
      .update(value)
      .digest()
      .subarray(0, 16)
      .toString('base64url');
  }
}
