import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CachedSessionStore } from '../../src/store/cached-session-store.js';
import { openSQLiteStore } from '../../src/store/sqlite.js';
import { describeSessionStoreConformance } from './conformance.js';

describeSessionStoreConformance('SQLite (file, WAL)', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'sessiond-store-'));
  const store = await openSQLiteStore(join(dir, 'test.db'));
  return {
    store,
    dispose: async () => {
      await store.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
});

describeSessionStoreConformance('SQLite behind the session cache', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'sessiond-store-'));
  const store = new CachedSessionStore(await openSQLiteStore(join(dir, 'test.db')));
  return {
    store,
    dispose: async () => {
      await store.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
});
