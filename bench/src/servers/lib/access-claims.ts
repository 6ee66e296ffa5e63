import { randomBytes, randomUUID } from 'node:crypto';

// Claims shaped like sessiond's access token (RFC 9068 plus sid and did), so the ceiling and
// the baseline sign and verify tokens of about the same size as sessiond's.

export const ISSUER = 'http://127.0.0.1';
export const AUDIENCE = 'bench';
export const ACCESS_TOKEN_TTL_SECONDS = 900;

export interface AccessClaims {
  iss: string;
  aud: string;
  sub: string;
  client_id: string;
  sid: string;
  did: string;
  iat: number;
  exp: number;
  jti: string;
  auth_time: number;
  acr: 'aal1';
}

export function newAccessClaims(subject: {
  userId: string;
  sessionId: string;
  deviceId: string;
}): AccessClaims {
  const now = Math.floor(Date.now() / 1000);
  return {
    iss: ISSUER,
    aud: AUDIENCE,
    sub: subject.userId,
    client_id: 'web',
    sid: subject.sessionId,
    did: subject.deviceId,
    iat: now,
    exp: now + ACCESS_TOKEN_TTL_SECONDS,
    jti: randomBytes(16).toString('base64url'),
    auth_time: now,
    acr: 'aal1',
  };
}

/** A fixed subject: the peers have no database, so every token names the same user. */
export const BENCH_SUBJECT = { userId: randomUUID(), sessionId: randomUUID(), deviceId: randomUUID() };
