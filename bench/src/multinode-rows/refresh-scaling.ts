import type { BenchConfig } from '../config.js';
import { mapWithLimit } from '../map-limit.js';
import { createRefreshChains } from '../targets/refresh-chains.js';
import { createSession, signUp } from '../targets/sessiond-api.js';
import type { Target } from '../targets/target.js';
import type { Cluster } from './cluster.js';

// Row 12: refresh throughput on 1, 2 and 3 nodes sharing one PostgreSQL (and one Redis), and
// row 1's single SQLite node as a reference, all measured in the same interleaved rounds. The
// load is row 1's: one session per connection, each connection following its own chain of
// refresh tokens. The connections are spread over the nodes round-robin and each sticks to its
// node, as behind a load balancer; a session may be refreshed on a node it was not created on,
// since they all share the database.

const REFRESH_PATH = '/api/auth/session/refresh';
// Set-up logins run argon2id; a few at a time keeps them from timing out.
const SETUP_CONCURRENCY = 4;
const CREDENTIALS = { email: 'refresh@bench.test', password: 'correct horse battery' };

/** Row 12's node counts on PostgreSQL. */
export const NODE_COUNTS = [1, 2, 3] as const;

export type RefreshLineId = 'nodes-sqlite-1' | `nodes-pg-${(typeof NODE_COUNTS)[number]}`;

/** The line every other line of row 12 is divided by. */
export const ONE_POSTGRES_NODE: RefreshLineId = 'nodes-pg-1';

/** Where one line of row 12 runs. */
export interface RefreshSetup {
  id: RefreshLineId;
  nodes: number;
  storage: 'sqlite' | 'postgres';
}

export const REFRESH_SETUPS: readonly RefreshSetup[] = [
  { id: 'nodes-sqlite-1', nodes: 1, storage: 'sqlite' },
  ...NODE_COUNTS.map((nodes) => ({ id: `nodes-pg-${nodes}` as const, nodes, storage: 'postgres' as const })),
];

/** The line's label; the PostgreSQL version is null when the server did not start. */
export function describeSetup(setup: RefreshSetup, postgresVersion: string | null): string {
  const nodes = `${setup.nodes} node${setup.nodes === 1 ? '' : 's'}`;
  return setup.storage === 'sqlite'
    ? `sessiond, ${nodes}, SQLite (row 1's setup)`
    : `sessiond, ${nodes}, PostgreSQL${postgresVersion === null ? '' : ` ${postgresVersion}`} + Redis`;
}

/** Signs up the line's account on a started cluster and answers its autocannon target. */
export async function refreshTarget(
  config: BenchConfig,
  setup: RefreshSetup,
  cluster: Cluster,
  postgresVersion: string,
): Promise<Target> {
  const [first] = cluster.baseURLs;
  if (first === undefined) throw new Error('a cluster without nodes');
  await signUp(first, CREDENTIALS);
  const { baseURLs } = cluster;
  return {
    id: setup.id,
    row: 'refresh',
    label: describeSetup(setup, postgresVersion),
    request: `POST ${REFRESH_PATH}`,
    prepareRun: async () => {
      // Fresh sessions per run, as in row 1: a run ends with requests in flight whose answers
      // (the next tokens) are lost. The sign-ins are spread over the nodes too.
      const sessions = await mapWithLimit(
        Array.from({ length: config.connections }),
        SETUP_CONCURRENCY,
        (_, i) => createSession(baseURLs[i % baseURLs.length]!, CREDENTIALS),
      );
      const chains = createRefreshChains(
        REFRESH_PATH,
        sessions.map((tokens) => tokens.refresh_token),
      );
      return {
        url: baseURLs.map((baseURL) => `${baseURL}${REFRESH_PATH}`),
        method: 'POST',
        setupClient: chains.setupClient,
      };
    },
  };
}
