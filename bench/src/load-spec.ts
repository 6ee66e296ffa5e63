import type { Client } from 'autocannon';

/** What autocannon sends for one target in one run. */
export interface LoadSpec {
  /**
   * Where to send it. Several URLs (row 12's nodes): autocannon gives connection i the URL
   * i mod n, so each connection sticks to one node, round-robin, as behind a load balancer.
   */
  url: string | string[];
  method: 'GET' | 'POST';
  headers?: Record<string, string>;
  body?: string;
  /** Per-connection request set-up (used by the refresh chains). */
  setupClient?: (client: Client) => void;
}
