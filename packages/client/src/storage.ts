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
 * The browser's IndexedDB, shared by every tab of the origin. Use it with the cookie transport,
 * where the client stores only non-secret state (session summary, expiry, device id).
 *
 * Not localStorage: Chromium propagates a localStorage write to the other tabs' processes
 * asynchronously, so a tab that takes the refresh lock just after another tab refreshed could
 * read the old value, miss the refresh and send its own. IndexedDB transactions are ordered in
 * the browser process: a read after another tab's committed write sees it (decision 007).
 */
export function browserStorage(databaseName = 'sessiond'): SessionStorage {
  let opened: Promise<IDBDatabase> | undefined;
  const database = () => {
    opened ??= new Promise((resolve, reject) => {
      const request = globalThis.indexedDB.open(databaseName, 1);
      request.onupgradeneeded = () => request.result.createObjectStore('kv');
      request.onsuccess = () => resolve(request.result);
      request.onerror = () => reject(request.error);
    });
    return opened;
  };
  const run = async <T>(
    mode: IDBTransactionMode,
    action: (store: IDBObjectStore) => IDBRequest,
  ): Promise<T> => {
    const db = await database();
    return new Promise<T>((resolve, reject) => {
      const transaction = db.transaction('kv', mode);
      const request = action(transaction.objectStore('kv'));
      // Resolve on commit, not on the request: the write is then visible to every other tab.
      transaction.oncomplete = () => resolve(request.result as T);
      transaction.onerror = () => reject(transaction.error);
      transaction.onabort = () => reject(transaction.error);
    });
  };
  return {
    get: async (key) =>
      ((await run<unknown>('readonly', (store) => store.get(key))) as string | undefined) ?? null,
    set: async (key, value) => {
      await run('readwrite', (store) => store.put(value, key));
    },
    remove: async (key) => {
      await run('readwrite', (store) => store.delete(key));
    },
  };
}
