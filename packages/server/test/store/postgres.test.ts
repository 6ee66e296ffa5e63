import { openPostgresStore } from '../../src/store/postgres.js';
import { createTestSchema } from '../helpers/postgres.js';
import { describeSessionStoreConformance } from './conformance.js';

describeSessionStoreConformance('PostgreSQL', async () => {
  const schema = await createTestSchema();
  const store = await openPostgresStore(schema.url, { poolSize: 4 });
  return {
    store,
    dispose: async () => {
      await store.close();
      await schema.drop();
    },
  };
});
