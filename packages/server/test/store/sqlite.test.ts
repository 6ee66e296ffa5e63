import { CachedSessionStore } from '../../src/store/cached-session-store.js';
import { describeSessionStoreConformance } from './conformance.js';
import { freshSQLiteStore } from './fresh-stores.js';
import { describeRetentionConformance } from './retention-conformance.js';

describeSessionStoreConformance('SQLite (file, WAL)', freshSQLiteStore);

describeSessionStoreConformance('SQLite behind the session cache', async () => {
  const fresh = await freshSQLiteStore();
  return { store: new CachedSessionStore(fresh.store), dispose: fresh.dispose };
});

describeRetentionConformance('SQLite (file, WAL)', freshSQLiteStore);
