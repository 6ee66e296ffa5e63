import { describeSessionStoreConformance } from './conformance.js';
import { freshPostgresStore } from './fresh-stores.js';
import { describeRetentionConformance } from './retention-conformance.js';

describeSessionStoreConformance('PostgreSQL', freshPostgresStore);

describeRetentionConformance('PostgreSQL', freshPostgresStore);
