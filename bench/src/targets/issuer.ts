import type { Tokens } from './sessiond-api.js';

/**
 * What rows 4 and 5 need from the benchmark's sessiond: where it is, what its tokens say, the
 * resource-server credentials it was started with, and sessions whose access tokens to present.
 */
export interface Issuer {
  /** sessiond's base URL, which is also its tokens' `iss` (SESSIOND_ISSUER is set to it). */
  readonly url: string;
  /** The tokens' `aud` (sessiond's default, `sessiond`). */
  readonly audience: string;
  /** One `id:secret` pair of SESSIOND_RESOURCE_SERVERS: the revocation stream asks for it. */
  readonly clientId: string;
  readonly clientSecret: string;
  /** `count` new sessions (one real sign-in each) of an account kept for rows 4 and 5. */
  newSessions(count: number): Promise<Tokens[]>;
  /** Refreshes each session once; the answers carry fresh access tokens. */
  refresh(sessions: readonly Tokens[]): Promise<Tokens[]>;
}

/** The environment a child process (resource server, verify loops) reads the issuer from. */
export function issuerEnv(issuer: Issuer): Record<string, string> {
  return {
    ISSUER: issuer.url,
    AUDIENCE: issuer.audience,
    CLIENT_ID: issuer.clientId,
    CLIENT_SECRET: issuer.clientSecret,
  };
}
