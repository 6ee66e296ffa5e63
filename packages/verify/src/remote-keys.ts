import { KeyObject, type webcrypto } from 'node:crypto';
import { createRemoteJWKSet } from 'jose';

const REVALIDATE_MS = 10 * 60_000;

/**
 * The issuer's JWKS through jose's remote key set (fetching, caching, cooldown on unknown
 * kids), kept as node:crypto KeyObjects: the verify hot path is then synchronous. A key is
 * re-resolved through jose every ten minutes so one removed from the JWKS stops verifying.
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
  ) {
    this.#jwks = createRemoteJWKSet(jwksURL, { cooldownDuration: cooldownMs, cacheMaxAge: REVALIDATE_MS });
  }

  /** The cached key for `kid`, if resolved recently; undefined means: call `resolve`. */
  cached(kid: string): KeyObject | undefined {
    const entry = this.#keys.get(kid);
    return entry && this.now() - entry.resolvedAt < REVALIDATE_MS ? entry.key : undefined;
  }

  /** Resolves `kid` through the JWKS; undefined if the issuer does not publish it. */
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
