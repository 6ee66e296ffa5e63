import type { Client, Request } from 'autocannon';

// Refresh tokens are single-use: every refresh answers with the next token of the chain, and
// presenting a spent one (after the grace window) revokes the session. So each autocannon
// connection owns one session and always sends the token from its own previous response.
//
// autocannon's `context` cannot carry that token: it is reset to `initialContext` every time
// a connection wraps around its request list, which with one request is every request. So the
// chain lives in a closure per connection, installed by `setupClient` (which autocannon calls
// once per connection, before it sends anything).

export interface RefreshChains {
  setupClient(client: Client): void;
}

/** One chain per connection, starting from `refreshTokens[i]` for the i-th connection. */
export function createRefreshChains(path: string, refreshTokens: readonly string[]): RefreshChains {
  let nextChain = 0;
  let reportedFailure = false;
  return {
    setupClient(client: Client): void {
      const index = nextChain++;
      let token = refreshTokens[index];
      if (token === undefined) throw new Error(`connection ${index + 1} has no session of its own`);
      const request: Request = {
        method: 'POST',
        path,
        headers: { 'content-type': 'application/json' },
        setupRequest: (base) => ({ ...base, body: JSON.stringify({ refresh_token: token }) }),
        onResponse: (status, body) => {
          if (status === 200) {
            token = (JSON.parse(body) as { refresh_token: string }).refresh_token;
          } else if (!reportedFailure) {
            // The count shows in the report; the first body says why.
            reportedFailure = true;
            process.stderr.write(`  refresh chain ${index + 1}: HTTP ${status} ${body.slice(0, 300)}\n`);
          }
        },
      };
      client.setRequests([request]);
    },
  };
}
