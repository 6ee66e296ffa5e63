import type { Client } from 'autocannon';

/**
 * A `setupClient` that gives the i-th connection the i-th header set, so 50 connections act
 * as 50 users with 50 sessions rather than one user 50 times over: a server that caches the
 * last token or cookie it checked gets no help it would not get in production.
 */
export function perConnectionHeaders(
  headerSets: ReadonlyArray<Record<string, string>>,
): (client: Client) => void {
  let next = 0;
  return (client: Client): void => {
    const index = next++;
    const headers = headerSets[index];
    if (headers === undefined) throw new Error(`connection ${index + 1} has no session of its own`);
    client.setHeaders(headers);
  };
}
