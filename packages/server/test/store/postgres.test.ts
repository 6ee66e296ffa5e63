import { describeSessionStoreConformance } from './conformance.js';
import { freshPostgresStore } from './fresh-stores.js';

describeSessionStoreConformance('PostgreSQL', freshPostgresStore);
