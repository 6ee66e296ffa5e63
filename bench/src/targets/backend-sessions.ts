import type { Client } from 'autocannon';
import type { Target } from './target.js';

// Row 3b: `POST /api/backend/sessions`, sessions opened by a registered backend for users it
// authenticated itself (decision 022). No password is checked on this path, so no argon2id: it
// is what row 3 costs without the hash.

const PATH = '/api/backend/sessions';

/** A backend of SESSIOND_BACKENDS, as the bench's sessiond is configured with it. */
export interface BenchBackend {
  id: string;
  secret: string;
}

/** `client_secret_basic` (RFC 6749 §2.3.1): id and secret form-urlencoded, then base64. */
export function basicAuthorization(backend: BenchBackend): string {
  const pair = `${encodeURIComponent(backend.id)}:${encodeURIComponent(backend.secret)}`;
  return `Basic ${Buffer.from(pair).toString('base64')}`;
}

/** The external id connection `index` always names (0-based). */
export function benchExternalId(index: number): string {
  return `bench-user-${index + 1}`;
}

/**
 * A `setupClient` that gives the i-th connection its own end user: every request of it names
 * `benchExternalId(i)`. The first request of each id provisions a sessiond user (in the warm-up);
 * every later one, in every run, takes the linked path: the (backend, external id) lookup, then a
 * new session with the same device and risk checks as a password sign-in.
 */
function perConnectionUsers(backend: BenchBackend, connections: number): (client: Client) => void {
  let next = 0;
  const authorization = basicAuthorization(backend);
  return (client: Client): void => {
    const index = next++;
    if (index >= connections) throw new Error(`connection ${index + 1} has no external id of its own`);
    client.setRequests([
      {
        method: 'POST',
        path: PATH,
        headers: { 'content-type': 'application/json', authorization },
        // The device row 3 sends, so both rows meet the same device and risk work.
        body: JSON.stringify({
          user: { external_id: benchExternalId(index) },
          device: { name: 'autocannon', platform: 'bench' },
        }),
      },
    ]);
  };
}

/** Row 3b's target on the bench's sessiond at `baseURL`, one external id per connection. */
export function backendSessionsTarget(options: {
  baseURL: string;
  backend: BenchBackend;
  connections: number;
}): Target {
  return {
    id: 'sessiond-backend-create',
    row: 'backend-create',
    label: 'sessiond (registered backend, no password)',
    request: `POST ${PATH}`,
    prepareRun: async () => ({
      url: `${options.baseURL}${PATH}`,
      method: 'POST',
      setupClient: perConnectionUsers(options.backend, options.connections),
    }),
  };
}
