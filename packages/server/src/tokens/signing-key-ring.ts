import { createPublicKey, type KeyObject, randomUUID } from 'node:crypto';
import { type CryptoKey, exportJWK, exportPKCS8, generateKeyPair, importPKCS8, type JWK } from 'jose';
import type { Clock } from '../clock.js';
import type { SecretBox } from '../lib/crypto.js';
import type { SigningKeyRecord } from '../store/records.js';
import type { SessionStore } from '../store/session-store.js';

export const SIGNING_ALG = 'RS256';

interface LoadedKey {
  kid: string;
  createdAt: number;
  retiredAt: number | null;
  publicJWK: JWK;
  /** node:crypto form of the public key: synchronous, and off the thread pool argon2 uses (decision 003). */
  verifyKey: KeyObject;
}

interface ActiveKey {
  kid: string;
  privateKey: CryptoKey;
}

/**
 * The server's RS256 signing keys. The newest key signs; every key whose tokens may still be
 * alive (never retired, or retired less than a token lifetime plus a reload interval ago) is published in
 * the JWKS and accepted for verification. Private keys live in the store sealed with the
 * master secret. `reload()` picks up a key another process added (`sessiond keys rotate`).
 */
export class SigningKeyRing {
  readonly #store: SessionStore;
  readonly #box: SecretBox;
  readonly #clock: Clock;
  readonly #publishForMs: number;
  #keys = new Map<string, LoadedKey>();
  #active: ActiveKey | undefined;

  private constructor(store: SessionStore, box: SecretBox, clock: Clock, publishForMs: number) {
    this.#store = store;
    this.#box = box;
    this.#clock = clock;
    this.#publishForMs = publishForMs;
  }

  /** Loads the keys, generating the first one on a fresh install. */
  static async open(
    store: SessionStore,
    box: SecretBox,
    clock: Clock,
    options: { accessTokenTTLSeconds: number; reloadIntervalSeconds: number },
  ): Promise<SigningKeyRing> {
    // A server learns of a rotation at its next reload and may sign with the retired key until
    // then, so the retired key stays published one reload interval longer than a token lives.
    const publishForMs = (options.accessTokenTTLSeconds + options.reloadIntervalSeconds) * 1000;
    const ring = new SigningKeyRing(store, box, clock, publishForMs);
    await ring.reload();
    if (!ring.#active) {
      // Nodes starting together on a fresh database: one key wins, and every node signs with it.
      await store.addSigningKey(await ring.#newKey(), { unlessOneIsActive: true });
      await ring.reload();
    }
    return ring;
  }

  /** Generates a key, makes it the signing key and retires the previous one. Returns its kid. */
  async rotate(): Promise<string> {
    const key = await this.#newKey();
    await this.#store.addSigningKey(key);
    await this.reload();
    return key.kid;
  }

  async #newKey(): Promise<SigningKeyRecord> {
    const { publicKey, privateKey } = await generateKeyPair(SIGNING_ALG, {
      modulusLength: 2048,
      extractable: true,
    });
    const kid = randomUUID();
    const publicJWK = { ...(await exportJWK(publicKey)), kid, alg: SIGNING_ALG, use: 'sig' };
    return {
      kid,
      alg: SIGNING_ALG,
      publicJWK: JSON.stringify(publicJWK),
      privateKeySealed: this.#box.seal(await exportPKCS8(privateKey)),
      createdAt: this.#clock.now(),
      retiredAt: null,
    };
  }

  async reload(): Promise<void> {
    const records = await this.#store.listSigningKeys();
    const keys = new Map<string, LoadedKey>();
    for (const record of records) keys.set(record.kid, this.#load(record));
    const newest = records.filter((record) => record.retiredAt === null).at(-1);
    if (newest && newest.kid !== this.#active?.kid) {
      let pem: string;
      try {
        pem = this.#box.open(newest.privateKeySealed);
      } catch {
        throw new Error(
          `cannot decrypt signing key ${newest.kid}: SESSIOND_SECRET is not the secret the keys were sealed with`,
        );
      }
      this.#active = { kid: newest.kid, privateKey: await importPKCS8(pem, SIGNING_ALG) };
    }
    this.#keys = keys;
  }

  /** The key new tokens are signed with. */
  signingKey(): ActiveKey {
    if (!this.#active) throw new Error('signing key ring is not loaded');
    return this.#active;
  }

  /** The public key for `kid` if tokens it signed can still be valid now. */
  verificationKey(kid: string): KeyObject | undefined {
    const key = this.#keys.get(kid);
    return key && this.#isPublished(key) ? key.verifyKey : undefined;
  }

  /** RFC 7517 key set of every key whose tokens can still be alive. */
  jwks(): { keys: JWK[] } {
    return {
      keys: [...this.#keys.values()].filter((key) => this.#isPublished(key)).map((key) => key.publicJWK),
    };
  }

  list(): Array<{ kid: string; createdAt: number; retiredAt: number | null; published: boolean }> {
    return [...this.#keys.values()].map((key) => ({
      kid: key.kid,
      createdAt: key.createdAt,
      retiredAt: key.retiredAt,
      published: this.#isPublished(key),
    }));
  }

  #isPublished(key: LoadedKey): boolean {
    return key.retiredAt === null || key.retiredAt + this.#publishForMs > this.#clock.now();
  }

  #load(record: SigningKeyRecord): LoadedKey {
    const publicJWK = JSON.parse(record.publicJWK) as JWK;
    return {
      kid: record.kid,
      createdAt: record.createdAt,
      retiredAt: record.retiredAt,
      publicJWK,
      verifyKey: createPublicKey({ key: publicJWK as import('node:crypto').JsonWebKey, format: 'jwk' }),
    };
  }
}
