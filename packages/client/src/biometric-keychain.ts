/**
 * A keychain item that only opens after the user passes the device's biometric check
 * (decision 027). iOS: a Keychain item with `SecAccessControl` `biometryCurrentSet`; Android: a
 * value encrypted to a Keystore key created with `setUserAuthenticationRequired(true)` and
 * opened through `BiometricPrompt` (docs/react-native.md shows both over react-native-keychain).
 */
export interface BiometricKeychain {
  /** Stores `value`. Must not prompt: the client writes each rotated refresh token here. */
  set(key: string, value: string): Promise<void>;
  /**
   * Prompts with `prompt` and resolves the value once the user passes; null when there is no
   * such item (never written, deleted, or invalidated because the enrolled biometrics changed).
   * Rejects when the user cancels or fails the check: the client then stays locked.
   */
  get(key: string, options: { prompt: string }): Promise<string | null>;
  /** Forgets the item; no prompt. */
  delete(key: string): Promise<void>;
}

/** What an adapter may throw when the user cancels the prompt (any rejection counts as one). */
export class BiometricCancelledError extends Error {
  override readonly name = 'BiometricCancelledError';
}

/** The in-memory double of a biometric keychain, for the tests of apps and of this package. */
export interface MemoryBiometricKeychain extends BiometricKeychain {
  /** How the next prompts answer: the user passes (`approve`, the default) or cancels. */
  respond(answer: 'approve' | 'cancel'): void;
  /** Every prompt shown, in order. */
  readonly prompts: readonly string[];
  /** As when the user enrolls another fingerprint or face: every item is gone (biometryCurrentSet). */
  invalidate(): void;
  /** The stored value without a prompt (tests only: a real keychain has no such door). */
  peek(key: string): string | undefined;
}

export function memoryBiometricKeychain(): MemoryBiometricKeychain {
  const items = new Map<string, string>();
  const prompts: string[] = [];
  let answer: 'approve' | 'cancel' = 'approve';
  return {
    prompts,
    set: async (key, value) => {
      items.set(key, value);
    },
    get: async (key, options) => {
      prompts.push(options.prompt);
      if (answer === 'cancel') throw new BiometricCancelledError('the user cancelled the biometric prompt');
      return items.get(key) ?? null;
    },
    delete: async (key) => {
      items.delete(key);
    },
    respond: (next) => {
      answer = next;
    },
    invalidate: () => items.clear(),
    peek: (key) => items.get(key),
  };
}
