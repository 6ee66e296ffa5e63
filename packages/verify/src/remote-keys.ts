import { KeyObject, type webcrypto } from 'node:crypto';
import { createRemoteJWKSet, customFetch } from 'jose';

const REVALIDATE_MS = 10 * 60_000;

/**
 * The issuer's JWKS through jose's remote key set (fetching, caching, cooldown on unknown
 * kids), kept as node:crypto KeyObjects: the verify hot path is then synchronous. A key is
 * re-resolved through jose every ten minutes so one removed from the JWKS stops verifying;
 * while the issuer cannot be reached, the key last resolved keeps working.
 */
export class RemoteKeys {
  readonly #jwks: ReturnType<typeof createRemoteJWKSet>;
  readonly #keys = new Map<string, { key: KeyObject; resolvedAt: number }>();

  /**
   * `cooldownMs`: after a fetch, unknown kids are refused without fetching again for this long,
   * so tokens with made-up kids cannot make us hammer the issuer. A key rotated in that window
   * is learnt once it passes.
   */
  constructor(
    jwksURL: URL,
    private readonly now: () => number,
    cooldownMs: number,
    doFetch: typeof fetch,
  ) {
    this.#jwks = createRemoteJWKSet(jwksURL, {
      cooldownDuration: cooldownMs,
      cacheMaxAge: REVALIDATE_MS,
      [customFetch]: doFetch,
    });
  }

  /** True if `kid` was resolved recently enough to use without asking the JWKS again. */
  isFresh(kid: string): boolean {
    const entry = this.#keys.get(kid);
    return entry !== undefined && this.now() - entry.resolvedAt < REVALIDATE_MS;
  }

  /** The key last resolved for `kid`, fresh or not. */
  current(kid: string): KeyObject | undefined {
    return this.#keys.get(kid)?.key;
  }

  /**
   * Resolves `kid` through the JWKS; undefined if the issuer does not publish it. Throws if the
   * JWKS cannot be fetched (the caller may keep using `current`, see the verifier).
   */
  async resolve(kid: string): Promise<KeyObject | undefined> {
    try {
      const key = await this.#jwks({ alg: 'RS256', kid });
      const keyObject = KeyObject.from(key as unknown as webcrypto.CryptoKey);
      this.#keys.set(kid, { key: keyObject, resolvedAt: this.now() });
      return keyObject;
    } catch (error) {
      if ((error as { code?: string }).code === 'ERR_JWKS_NO_MATCHING_KEY') {
        this.#keys.delete(kid);
        return undefined;
      }
      throw error;
    }
  }
}
