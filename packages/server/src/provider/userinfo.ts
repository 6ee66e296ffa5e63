import type { SessionRecord, UserRecord } from '../store/records.js';
import { sessionScopes } from './id-token-issuer.js';

/** The userinfo claims of an app session (OpenID Connect Core §5.3.2): `sub`, and what its scopes grant. */
export function userInfoClaims(session: SessionRecord, user: UserRecord): Record<string, unknown> {
  const claims: Record<string, unknown> = { sub: session.userId };
  if (sessionScopes(session).includes('email') && user.email !== null) {
    claims.email = user.email;
    claims.email_verified = false;
  }
  return claims;
}
