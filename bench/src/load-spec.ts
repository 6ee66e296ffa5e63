import type { Client } from 'autocannon';

/** What autocannon sends for one target in one run. */
export interface LoadSpec {
  url: string;
  method: 'GET' | 'POST';
  headers?: Record<string, string>;
  body?: string;
  /** Per-connection request set-up (used by the refresh chains). */
  setupClient?: (client: Client) => void;
}
