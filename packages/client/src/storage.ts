/**
 * Where the client keeps what must survive a restart. Async so Keychain/Keystore fit
 * (react-native-keychain, expo-secure-store): implement these three methods over them.
 */
export interface SessionStorage {
  get(key: string): Promise<string | null>;
  set(key: string, value: string): Promise<void>;
  remove(key: string): Promise<void>;
}

/** In memory: tests, servers, and apps that must forget everything on restart. */
export function memoryStorage(): SessionStorage {
  const values = new Map<string, string>();
  return {
    get: async (key) => values.get(key) ?? null,
    set: async (key, value) => {
      values.set(key, value);
    },
    remove: async (key) => {
      values.delete(key);
    },
  };
}

/**
 * The browser's localStorage, shared by every tab of the origin. Use it with the cookie
 * transport, where the client stores only non-secret state (session summary, expiry, device id).
 */
export function browserStorage(prefix = ''): SessionStorage {
  const store = globalThis.localStorage;
  return {
    get: async (key) => store.getItem(prefix + key),
    set: async (key, value) => store.setItem(prefix + key, value),
    remove: async (key) => store.removeItem(prefix + key),
  };
}
