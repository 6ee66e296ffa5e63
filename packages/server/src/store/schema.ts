import type { Generated } from 'kysely';

/**
 * Table shapes as Kysely sees them (camelCase here, snake_case in SQL via CamelCasePlugin).
 * Booleans are 0/1 integers and times epoch-ms integers, identical on SQLite and PostgreSQL.
 */
export interface Database {
  users: {
    id: string;
    email: string;
    passwordHash: string;
    createdAt: number;
    totpSecretSealed: string | null;
    totpEnabledAt: number | null;
    totpLastStep: number | null;
    totpPendingSealed: string | null;
    /** When the account was erased (migration 0014): the row is a tombstone, found by no look-up. */
    erasedAt: Generated<number | null>;
  };
  adminKeys: { id: string; keyHash: string; name: string; createdAt: number };
  webhookCursors: {
    endpoint: string;
    /** Position in the log: (transaction id, log id) of the last row handled (decision 012). */
    lastTxId: Generated<number>;
    lastLogId: number;
    /** The node delivering this endpoint's webhooks, until `leasedUntil` (ms). */
    leasedBy: string | null;
    leasedUntil: Generated<number>;
    attempts: Generated<number>;
    nextAttemptAt: Generated<number>;
    lastError: string | null;
  };
  devices: {
    userId: string;
    id: string;
    name: string | null;
    platform: string | null;
    browser: string | null;
    os: string | null;
    deviceType: string | null;
    userAgent: string | null;
    trusted: number;
    trustedAt: number | null;
    firstSeenAt: number;
    lastSeenAt: number;
    lastIp: string | null;
    secretHash: string | null;
    /** JSON {country, city} of the last sign-in's IP (migration 0013), or null. */
    location: string | null;
  };
  sessions: {
    id: string;
    userId: string;
    deviceId: string;
    clientId: string;
    acr: string;
    ip: string | null;
    userAgent: string | null;
    authTime: number;
    createdAt: number;
    lastActivityAt: number;
    idleTimeoutMs: number;
    idleExpiresAt: number;
    expiresAt: number;
    endedAt: number | null;
    endReason: string | null;
    stepUpRequired: number;
    refreshCount: number;
    reauthAt: number | null;
    reauthFactor: string | null;
    /** JSON array of RFC 8176 method names, or null. */
    amr: string | null;
    /** JSON object of custom claims, or null. */
    claims: string | null;
    /** The SSO session (sessiond's own sign-in session) an authorization code opened this one from. */
    ssoSessionId: string | null;
    /** Space-separated scopes granted to an authorization-code session; null otherwise. */
    scope: string | null;
    /** JSON {country, city} of the IP the session opened from (migration 0013), or null. */
    location: string | null;
  };
  userLinks: {
    source: string;
    subject: string;
    userId: string;
    createdAt: number;
  };
  /** A native app's one-time code after an upstream OpenID sign-in (migration 0009, decision 023). */
  authorizationCodes: {
    /** SHA-256 of the code; the code itself is never stored. */
    codeHash: string;
    clientId: string;
    userId: string;
    ssoSessionId: string;
    redirectUri: string;
    /** The client's PKCE S256 challenge (RFC 7636). */
    codeChallenge: string;
    scope: string;
    nonce: string | null;
    createdAt: number;
    expiresAt: number;
    usedAt: number | null;
    /** The session the exchange opened; a replay revokes it. */
    sessionId: string | null;
    replayedAt: number | null;
  };
  passkeys: {
    /** The WebAuthn credential id, base64url. */
    id: string;
    userId: string;
    /** COSE public key, base64url. */
    publicKey: string;
    counter: number;
    /** JSON array of AuthenticatorTransport hints, or null. */
    transports: string | null;
    aaguid: string | null;
    /** `singleDevice` or `multiDevice` (a synced passkey). */
    deviceType: string;
    backedUp: number;
    name: string | null;
    createdAt: number;
    lastUsedAt: number | null;
  };
  ceremonies: {
    id: string;
    /** What the ceremony proves: see CeremonyPurpose. */
    purpose: string;
    userId: string | null;
    /** The session it is bound to, for ceremonies of a signed-in user. */
    sessionId: string | null;
    /** Hash of what the caller must present (the challenge, the code, the pending token). */
    secretHash: string;
    /** JSON, the purpose's own fields. */
    data: string;
    attempts: Generated<number>;
    createdAt: number;
    expiresAt: number;
  };
  oidcLoginCodes: {
    /** SHA-256 of the code; the code itself is never stored. */
    codeHash: string;
    userId: string;
    provider: string;
    clientId: string;
    /** The app's PKCE challenge (S256, RFC 7636): only the app that started may exchange. */
    codeChallenge: string;
    /** JSON: how the user authenticated (acr, amr, auth_time), for the session the exchange opens. */
    authentication: string;
    createdAt: number;
    expiresAt: number;
    usedAt: number | null;
    /** The session the exchange opened; a replay of the code revokes it. */
    sessionId: string | null;
    replayedAt: number | null;
  };
  refreshTokens: {
    id: string;
    sessionId: string;
    tokenHash: string;
    status: string;
    createdAt: number;
    rotatedAt: number | null;
    successorId: string | null;
    successorSealed: string | null;
  };
  sessionLogs: {
    id: Generated<number>;
    userId: string | null;
    sessionId: string | null;
    deviceId: string | null;
    action: string;
    success: number;
    error: string | null;
    ip: string | null;
    userAgent: string | null;
    actor: string | null;
    detail: string | null;
    createdAt: number;
    /** PostgreSQL: the writing transaction's id (webhook order); 0 on SQLite and for older rows. */
    txId: Generated<number>;
  };
  stateDocuments: {
    userId: string;
    namespace: string;
    document: string;
    /** Sequence number of the last operation applied to this document. */
    version: number;
    updatedAt: number;
  };
  stateOperations: {
    userId: string;
    seq: number;
    namespace: string;
    clientOpId: string;
    operation: string;
    createdAt: number;
  };
  stateCursors: {
    userId: string;
    lastSeq: number;
    /** Highest sequence number deleted by compaction (0: none). */
    compactedSeq: Generated<number>;
  };
  signingKeys: {
    kid: string;
    alg: string;
    publicJwk: string;
    privateKeySealed: string;
    createdAt: number;
    retiredAt: number | null;
  };
  /** Web Push (migration 0015, decision 037). */
  pushSubscriptions: {
    userId: string;
    deviceId: string;
    /** SHA-256 (base64url) of the endpoint URL. */
    endpointHash: string;
    /** SecretBox('push-subscriptions') of the JSON {endpoint, p256dh, auth}. */
    subscriptionSealed: string;
    createdAt: number;
  };
  pushPreferences: {
    userId: string;
    enabled: number;
    /** JSON array of the notification kinds turned off. */
    disabledKinds: string;
    updatedAt: number;
  };
  pushVapidKeys: {
    id: string;
    publicKey: string;
    privateKeySealed: string;
    createdAt: number;
  };
}
