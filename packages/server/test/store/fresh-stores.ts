import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { KyselySessionStore } from '../../src/store/kysely-store.js';
import { openPostgresStore } from '../../src/store/postgres.js';
import { openSQLiteStore } from '../../src/store/sqlite.js';
import { createTestSchema } from '../helpers/postgres.js';

/** A store and how to get rid of it, for the suites that run one contract on every store. */
export interface FreshStore {
  store: KyselySessionStore;
  dispose: () => Promise<void>;
}

/** A new, empty SQLite file in its own temp dir. */
export async function freshSQLiteStore(): Promise<FreshStore> {
  const dir = mkdtempSync(join(tmpdir(), 'sessiond-store-'));
  const store = await openSQLiteStore(join(dir, 'test.db'));
  return {
    store,
    dispose: async () => {
      await store.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** A new, empty schema of the test PostgreSQL. */
export async function freshPostgresStore(): Promise<FreshStore> {
  const schema = await createTestSchema();
  const store = await openPostgresStore(schema.url, { poolSize: 4 });
  return {
    store,
    dispose: async () => {
      await store.close();
      await schema.drop();
    },
  };
}
