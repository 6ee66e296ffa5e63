import type { BiometricKeychain } from './biometric-keychain.js';

/** The `unlock` option: where the refresh token lives, and what the prompt says. */
export interface UnlockOptions {
  keychain: BiometricKeychain;
  /** Shown by the biometric prompt. Default "Unlock your session". */
  prompt?: string;
}

/** What `client.unlock()` came to. */
export type UnlockResult =
  /** The refresh token is in memory again; the state is signed in (or offline, retrying). */
  | 'unlocked'
  /** The user cancelled or failed the prompt: still `locked`, nothing was sent, nothing ended. */
  | 'cancelled'
  /** No session to unlock any more (the keychain item is gone, or the server ended it). */
  | 'ended';

/**
 * The refresh token's only persistent home when the unlock gate is on (decision 027): written
 * without a prompt at every rotation, read back behind the biometric prompt once per cold start.
 */
export class UnlockGate {
  readonly #keychain: BiometricKeychain;
  readonly #key: string;
  readonly #prompt: string;

  constructor(options: UnlockOptions, namespace: string) {
    this.#keychain = options.keychain;
    this.#key = `${namespace}.refresh_token`;
    this.#prompt = options.prompt ?? 'Unlock your session';
  }

  save(refreshToken: string): Promise<void> {
    return this.#keychain.set(this.#key, refreshToken);
  }

  /** The token after the user passes; `missing` if the item is gone; `cancelled` on any refusal. */
  async open(): Promise<{ refreshToken: string } | 'missing' | 'cancelled'> {
    let value: string | null;
    try {
      value = await this.#keychain.get(this.#key, { prompt: this.#prompt });
    } catch {
      // Cancelled, failed, or locked out of biometrics for now: the session stays as it is.
      return 'cancelled';
    }
    return value ? { refreshToken: value } : 'missing';
  }

  forget(): Promise<void> {
    return this.#keychain.delete(this.#key);
  }
}
