import { readFileSync } from 'node:fs';
import { z } from 'zod';
import { adminKeyHash, isAdminKeyForm } from './admin/admin-key.js';
import { type TestFault, testFaultSpec } from './lib/test-fault.js';
import { type BasicClient, basicClient } from './oauth/resource-server-auth.js';
import { type OIDCProviderConfig, oidcProviderList, oidcRedirectList } from './oidc/oidc-config.js';
import { type WebAuthnConfig, webAuthnConfigFrom } from './passkeys/webauthn-config.js';
import { IP_STORAGE_MODES, type IPStorageMode } from './privacy/ip-minimiser.js';
import { parseClientRegistry, type RegisteredClient } from './provider/client-registry.js';
import type { RetentionPolicy } from './retention/retention-policy.js';
import type { RiskPolicy } from './risk/risk-engine.js';
import { RISK_SIGNALS, type RiskSignal } from './risk/signals.js';
import { type CustomClaimsPolicy, claimNameProblem } from './sessions/custom-claims.js';

/**
 * The whole configuration, read from `SESSIOND_*` environment variables once at start-up,
 * validated, normalised and frozen. Nothing else reads `process.env`. The defaults below are
 * the documentation; docs/configuration.md repeats them for operators.
 */

const list = z.string().transform((value) =>
  value
    .split(',')
    .map((item) => item.trim())
    .filter((item) => item.length > 0),
);

const integer = (min: number, max: number) => z.coerce.number().int().min(min).max(max);

/** `signal=points` pairs (config/risk-weights): only known signals, integer points. */
const riskWeights = list.transform((pairs, context) => {
  const weights: Partial<Record<RiskSignal, number>> = {};
  for (const pair of pairs) {
    const [name, points] = pair.split('=').map((part) => part.trim());
    if (!(RISK_SIGNALS as readonly string[]).includes(name ?? '') || !/^-?\d+$/.test(points ?? '')) {
      context.addIssue({
        code: 'custom',
        message: `"${pair}" is not signal=points; signals: ${RISK_SIGNALS.join(', ')}`,
      });
      return z.NEVER;
    }
    weights[name as RiskSignal] = Number(points);
  }
  return weights;
});

/** Points per risk signal when SESSIOND_RISK_WEIGHTS does not say (docs/configuration.md explains each). */
export const DEFAULT_RISK_WEIGHTS: Readonly<Record<RiskSignal, number>> = Object.freeze({
  new_device: 30,
  trusted_device: -40,
  user_agent_changed: 60,
  ip_network_changed: 30,
  failed_logins_account: 40,
  failed_logins_ip: 25,
  refresh_token_reused: 50,
  concurrent_sessions: 25,
  signin_velocity: 40,
});

const urlWithScheme = (...schemes: string[]) =>
  z
    .url()
    .refine(
      (value) => URL.canParse(value) && schemes.includes(new URL(value).protocol),
      `must be a ${schemes.join(' or ')} URL`,
    );

/**
 * Why `value` is not a browser origin as an `Origin` header carries one (RFC 6454 §7): http(s),
 * host, optional port, nothing else. Undefined when it is one.
 */
function originProblem(value: string): string | undefined {
  if (!URL.canParse(value)) return `${value} is not an origin`;
  const url = new URL(value);
  if (url.protocol !== 'https:' && url.protocol !== 'http:') {
    return `${value} is not an http: or https: origin`;
  }
  if (url.username || url.password || url.pathname !== '/' || /[?#]/.test(value)) {
    return `${value} is not an origin (scheme://host[:port], without path, query or credentials)`;
  }
  return undefined;
}

/** Origins, normalised (`HTTP://App.test:80/` -> `http://app.test`): matching is string equality. */
const originList = list
  .superRefine((origins, context) => {
    for (const origin of origins) {
      const problem = originProblem(origin);
      if (problem) context.addIssue({ code: 'custom', message: problem });
    }
  })
  .transform((origins) => [...new Set(origins.map((origin) => new URL(origin).origin))]);

const EnvSchema = z.object({
  /** Interface the HTTP server binds to. */
  SESSIOND_HOST: z.string().min(1).default('127.0.0.1'),
  /** TCP port; 0 picks a free one (tests). */
  SESSIOND_PORT: integer(0, 65535).default(7420),
  /** Directory for the SQLite file and the generated development secret. */
  SESSIOND_DATA_DIR: z.string().min(1).default('./data'),
  /** `postgres://...` selects PostgreSQL; unset means SQLite in the data dir. */
  SESSIOND_DATABASE_URL: urlWithScheme('postgres:', 'postgresql:').optional(),
  /** Connections each node keeps to PostgreSQL (nodes × this must fit its max_connections). */
  SESSIOND_DATABASE_POOL_SIZE: integer(1, 200).default(10),
  /** `redis://...` selects the Redis bus; unset means in-process. */
  SESSIOND_REDIS_URL: urlWithScheme('redis:', 'rediss:').optional(),
  /** On SIGTERM, how long in-flight requests may take before their connections are cut. */
  SESSIOND_SHUTDOWN_GRACE_SECONDS: integer(0, 300).default(10),
  /** Master secret that encrypts signing keys and other secrets at rest (32+ characters). */
  SESSIOND_SECRET: z.string().min(32, 'must be at least 32 characters').optional(),
  /** Access token `iss`; defaults to http://HOST:PORT. */
  SESSIOND_ISSUER: urlWithScheme('https:', 'http:').optional(),
  /** Access token `aud`. */
  SESSIOND_AUDIENCE: z.string().min(1).default('sessiond'),
  /** Access token lifetime in minutes (15-60). */
  SESSIOND_ACCESS_TOKEN_TTL_MINUTES: integer(15, 60).default(15),
  /** Absolute session lifetime in days (7-30); refresh tokens never outlive it. */
  SESSIOND_REFRESH_TOKEN_TTL_DAYS: integer(7, 30).default(14),
  /** Sliding inactivity timeout in minutes. */
  SESSIOND_IDLE_TIMEOUT_MINUTES: integer(1, 24 * 60).default(30),
  /** Inactivity timeout for sessions on a device the user marked trusted. */
  SESSIOND_TRUSTED_IDLE_TIMEOUT_MINUTES: integer(1, 7 * 24 * 60).default(120),
  /** How long a just-rotated refresh token still yields its successor (honest races). */
  SESSIOND_REFRESH_GRACE_SECONDS: integer(0, 60).default(10),
  /** Minimum password length at sign-up (NIST SP 800-63B asks at least 8). */
  SESSIOND_PASSWORD_MIN_LENGTH: integer(8, 128).default(10),
  /** Login attempts allowed per client IP per minute. */
  SESSIOND_LOGIN_LIMIT_PER_IP: integer(1, 10_000_000).default(30),
  /** Sign-ups allowed per client IP per hour (each costs an argon2id hash). */
  SESSIOND_SIGNUP_LIMIT_PER_IP: integer(1, 10_000_000).default(20),
  /** Failed logins allowed per (account, client IP) per 15 minutes before that pair is throttled. */
  SESSIOND_LOGIN_LIMIT_PER_ACCOUNT_IP: integer(1, 10_000_000).default(10),
  /**
   * Failed logins per account per 15 minutes from all IPs together, past which only a trusted
   * device or a correct second factor signs in (decision 015). Far above the per-IP limit, so an
   * attack from many IPs does not lock the real user out.
   */
  SESSIOND_LOGIN_LIMIT_PER_ACCOUNT: integer(1, 10_000_000).default(200),
  /**
   * How recent a step-up must be for adding, replacing or removing a factor (ASVS V6/V7). With
   * TOTP enabled, the step-up must have been made with TOTP.
   */
  SESSIOND_REAUTH_MAX_AGE_SECONDS: integer(30, 3600).default(300),
  // --- Step-up factors (issue 14; decision 024) ---
  /**
   * SMTP server for email one-time codes, `smtp://user:pass@host:587` (STARTTLS when offered) or
   * `smtps://...` (TLS from the start). Unset: no email codes. The URL is never logged.
   */
  SESSIOND_SMTP_URL: urlWithScheme('smtp:', 'smtps:').optional(),
  /** The From address of those mails; default `sessiond <no-reply@ISSUER-HOSTNAME>`. */
  SESSIOND_MAIL_FROM: z.string().min(3).max(320).optional(),
  /**
   * The password alone satisfies a step-up only when the session's `auth_time` is older than
   * this: until then the password was just typed, and typing it again proves nothing new.
   */
  SESSIOND_STEP_UP_PASSWORD_MIN_AGE_SECONDS: integer(0, 86_400).default(300),
  /**
   * Comma-separated admin API keys for /api/admin: each 32-256 characters of A-Z a-z 0-9 . _ ~ + / -
   * (then up to two `=`). Hashed (SHA-256) at once; only the hashes are kept.
   */
  SESSIOND_ADMIN_API_KEYS: list
    .refine(
      (keys) => keys.every(isAdminKeyForm),
      'each key must be 32-256 characters of A-Z a-z 0-9 . _ ~ + / -',
    )
    .transform((keys) => keys.map(adminKeyHash))
    .optional(),
  /**
   * The registered apps (provider/client-registry.ts): comma-separated public client ids, or a
   * JSON array of clients with redirect URIs, type, scopes and back-channel logout URI.
   */
  SESSIOND_CLIENTS: z.string().optional(),
  /** A JSON file of clients, instead of SESSIOND_CLIENTS (not both). */
  SESSIOND_CLIENTS_FILE: z.string().min(1).optional(),
  /** Comma-separated `id:secret` pairs allowed to call /oauth/introspect. */
  SESSIOND_RESOURCE_SERVERS: list.optional(),
  /** pino level. */
  SESSIOND_LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  /** Comma-separated webhook endpoints (http: or https: URLs), each sent every lifecycle event. */
  SESSIOND_WEBHOOK_URLS: list
    .superRefine((urls, context) => {
      for (const url of urls) {
        if (!URL.canParse(url) || !['http:', 'https:'].includes(new URL(url).protocol)) {
          context.addIssue({ code: 'custom', message: `${url} is not an http: or https: URL` });
        }
      }
    })
    .transform((urls) => [...new Set(urls)])
    .optional(),
  /** Standard Webhooks signing secret (`whsec_...`). */
  SESSIOND_WEBHOOK_SECRET: z
    .string()
    .regex(/^whsec_[A-Za-z0-9+/]+={0,2}$/, 'must be whsec_ followed by base64')
    .optional(),
  /** Delay before the first retry of a failed webhook, in seconds; it doubles per failure. */
  SESSIOND_WEBHOOK_RETRY_BASE_SECONDS: integer(1, 3600).default(5),
  /** Longest delay between two retries of a webhook, in seconds (retries never stop). */
  SESSIOND_WEBHOOK_RETRY_MAX_SECONDS: integer(1, 86_400).default(3600),
  /** How long one webhook request may take before it counts as failed, in milliseconds. */
  SESSIOND_WEBHOOK_TIMEOUT_MS: integer(100, 60_000).default(10_000),
  // --- Web Push (issue 17; decision 037) ---
  /** VAPID public key (RFC 8292), base64url P-256 point; with the private key, or neither (then generated and sealed in the store). */
  SESSIOND_VAPID_PUBLIC_KEY: z
    .string()
    .regex(/^[A-Za-z0-9_-]{87}$/, 'must be a base64url uncompressed P-256 point (65 bytes)')
    .optional(),
  /** VAPID private key, base64url (32 bytes). A secret: never logged. */
  SESSIOND_VAPID_PRIVATE_KEY: z
    .string()
    .regex(/^[A-Za-z0-9_-]{43}$/, 'must be a base64url P-256 private key (32 bytes)')
    .optional(),
  /** Who push services contact about our pushes: a mailto: or https: URL. Default mailto:no-reply@<issuer host>. */
  SESSIOND_VAPID_SUBJECT: urlWithScheme('mailto:', 'https:').optional(),
  /** Pushes one user may be sent per hour, all kinds together; more are dropped. */
  SESSIOND_PUSH_LIMIT_PER_HOUR: integer(1, 1000).default(6),
  /** Attempts at one push before it is given up (a 404/410 drops the subscription at once). */
  SESSIOND_PUSH_MAX_ATTEMPTS: integer(1, 10).default(3),
  /** The app's page listing the user's sessions (behind its sign-in): a new sign-in's notification opens it. */
  SESSIOND_PUSH_SESSIONS_URL: urlWithScheme('https:', 'http:').optional(),
  /** The app's cart page: "your cart is waiting" opens it. */
  SESSIOND_PUSH_CART_URL: urlWithScheme('https:', 'http:').optional(),
  /** TEST ONLY: accept http: push endpoints (a local push service in tests); production endpoints are https:. */
  SESSIOND_PUSH_ALLOW_HTTP_ENDPOINTS: z.enum(['true', 'false']).default('false'),
  /**
   * Comma-separated browser origins (besides the issuer's own) allowed to call the API with
   * credentials (CORS) and to send cookie-authenticated state-changing requests.
   */
  SESSIOND_CORS_ORIGINS: originList.optional(),
  /** Largest accepted request body, in bytes. */
  SESSIOND_BODY_LIMIT_BYTES: integer(1024, 10 * 1024 * 1024).default(16 * 1024),
  /** Largest per-user state document (cart, follows, …), in bytes of JSON. */
  SESSIOND_STATE_MAX_BYTES: integer(1024, 1024 * 1024).default(64 * 1024),
  /** State operations a user may apply per second, sustained (WebSocket and HTTP together). */
  SESSIOND_STATE_OPS_PER_SECOND: integer(1, 100_000).default(20),
  /** State operations a user may apply at once before the per-second rate applies (offline replays). */
  SESSIOND_STATE_OPS_BURST: integer(1, 1_000_000).default(200),
  /** Days the operation log is kept for catch-up and replay detection; older clients get a snapshot. */
  SESSIOND_STATE_OP_RETENTION_DAYS: integer(1, 365).default(30),
  /** Namespaces holding data that one user may have (an empty document does not count). */
  SESSIOND_STATE_MAX_NAMESPACES: integer(1, 10_000).default(32),
  /** Total UTF-8 JSON bytes of all of one user's state documents. */
  SESSIOND_STATE_MAX_USER_BYTES: integer(1024, 1024 * 1024 * 1024).default(1024 * 1024),
  /** Bytes a sync socket may have waiting unsent before it is closed as a slow consumer (4408). */
  SESSIOND_SYNC_MAX_BUFFERED_BYTES: integer(64 * 1024, 1024 * 1024 * 1024).default(8 * 1024 * 1024),
  /** `subscribe` messages one sync socket may send per second, sustained. */
  SESSIOND_SYNC_SUBSCRIBES_PER_SECOND: integer(1, 10_000).default(5),
  /** `subscribe` messages one sync socket may send at once (a reconnect subscribing every namespace). */
  SESSIOND_SYNC_SUBSCRIBE_BURST: integer(1, 100_000).default(64),
  /** Risk points per signal, `signal=points,...`; unnamed signals keep their default weight. */
  SESSIOND_RISK_WEIGHTS: riskWeights.optional(),
  /** A sign-in or refresh scoring at least this must step up. */
  SESSIOND_RISK_THRESHOLD: integer(1, 1000).default(50),
  /** Failed logins within the risk window (for the account, or from the IP) that fire a signal. */
  SESSIOND_RISK_FAILED_LOGINS: integer(1, 1000).default(5),
  /** Live sessions of one user above which a sign-in fires `concurrent_sessions`. */
  SESSIOND_RISK_MAX_SESSIONS: integer(1, 10_000).default(10),
  /** Distinct networks (/24, /48) signing in to one account within the window that fire `signin_velocity`. */
  SESSIOND_RISK_VELOCITY_NETWORKS: integer(2, 100).default(3),
  /** The look-back of the history signals, in minutes. */
  SESSIOND_RISK_WINDOW_MINUTES: integer(1, 7 * 24 * 60).default(60),
  /** Seconds between sweeps that mark timed-out sessions expired. */
  SESSIOND_SWEEP_INTERVAL_SECONDS: integer(1, 3600).default(60),
  // --- Retention (issue 17; decision 034; docs/privacy.md gives each default's reason) ---
  /**
   * Days audit log rows are kept: a year covers the investigations of a security incident found
   * months late. At least 7, the longest SESSIOND_RISK_WINDOW_MINUTES: the risk history reads it.
   */
  SESSIOND_RETENTION_AUDIT_LOG_DAYS: integer(7, 3650).default(365),
  /** Days an ended session (and its refresh tokens) is kept after it ended: a month of "where was I signed in". */
  SESSIOND_RETENTION_ENDED_SESSIONS_DAYS: integer(1, 3650).default(30),
  /** Days a device nobody signed in from, with no session left that has not ended, is kept. */
  SESSIOND_RETENTION_DEVICES_DAYS: integer(1, 3650).default(180),
  /** Rows one retention delete statement removes at most (short transactions, short locks). */
  SESSIOND_RETENTION_BATCH_SIZE: integer(1, 10_000).default(500),
  /** Trust X-Forwarded-For from a reverse proxy (true) or use the socket address (false). */
  SESSIOND_TRUST_PROXY: z.enum(['true', 'false']).default('false'),
  // --- IP minimisation and location (issue 17; decision 035) ---
  /**
   * How client IPs are stored (sessions, devices, audit log, risk history): `full`, `truncated`
   * (IPv4 /24, IPv6 /48) or `hashed` (keyed HMAC of network and address under the master secret).
   */
  SESSIOND_IP_STORAGE: z.enum(IP_STORAGE_MODES).default('full'),
  /** Look up country and city (geoip-lite, loaded only when on) and store them on sessions and devices. */
  SESSIOND_GEOIP: z.enum(['true', 'false']).default('false'),
  // --- Backends and custom claims (issue 13; decision 022 is the trust model) ---
  /**
   * Comma-separated `id:secret` pairs of the app backends allowed to create sessions
   * (`/api/backend/...`, HTTP Basic). Ids are 1-64 of A-Z a-z 0-9 . _ -, secrets at least 32
   * characters; only their SHA-256 is kept.
   */
  SESSIOND_BACKENDS: list.optional(),
  /** Comma-separated backend ids that may assert `acr: aal2` (they run a second factor themselves). */
  SESSIOND_BACKENDS_AAL2: list.optional(),
  /** Comma-separated custom claim names sessions may carry (e.g. `roles,tenant,plan`); reserved names are refused. */
  SESSIOND_CUSTOM_CLAIMS: list
    .superRefine((names, context) => {
      for (const name of names) {
        const problem = claimNameProblem(name);
        if (problem) context.addIssue({ code: 'custom', message: problem });
      }
    })
    .transform((names) => [...new Set(names)])
    .optional(),
  /** Largest custom claims object of a session, in UTF-8 bytes of JSON (every access token carries it). */
  SESSIOND_CUSTOM_CLAIMS_MAX_BYTES: integer(64, 16 * 1024).default(1024),
  // --- Upstream OpenID Connect sign-in (issue 13; decision 023) ---
  /**
   * JSON array of upstream OpenID providers, each `{"name", "issuer", "client_id",
   * "client_secret"?, "scope"?}`; discovered with openid-client on first use. The issuer must be
   * https: (http: only on a loopback address). Unset: no OpenID sign-in.
   */
  SESSIOND_OIDC_PROVIDERS: oidcProviderList.optional(),
  /**
   * Comma-separated URLs an OpenID sign-in may return to (`redirect=`): an origin (`https://app.test`,
   * any path on it), a URL (that path exactly), a loopback URL (any port, RFC 8252 §7.3) or an
   * app's private-use scheme (`com.example.app:/oauth`). Unset: sessiond's own origin only.
   */
  SESSIOND_OIDC_REDIRECTS: oidcRedirectList.optional(),
  // --- Passkeys (issue 14; decision 025) ---
  /**
   * The WebAuthn relying-party id: a domain name the origins are on (their host, or a registrable
   * suffix of it). Default: the issuer's hostname. Changing it orphans every registered passkey.
   */
  SESSIOND_WEBAUTHN_RP_ID: z
    .string()
    .regex(
      /^(?=.{1,253}$)[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*$/,
      'must be a domain name (no scheme, port or path)',
    )
    .optional(),
  /** The relying-party name authenticators show. */
  SESSIOND_WEBAUTHN_RP_NAME: z.string().min(1).max(100).optional(),
  /** Comma-separated origins passkey ceremonies may come from, matched exactly. Default: the issuer's origin. */
  SESSIOND_WEBAUTHN_ORIGINS: originList.optional(),
  /** TEST ONLY (the chaos suite): faults injected into this process; never set it in production. */
  SESSIOND_TEST_FAULT: testFaultSpec.optional(),
});

export interface Config {
  readonly host: string;
  readonly port: number;
  readonly dataDir: string;
  readonly databaseURL: string | undefined;
  readonly databasePoolSize: number;
  readonly redisURL: string | undefined;
  readonly shutdownGraceSeconds: number;
  /** Undefined means: use (or create) the development secret file in the data dir. */
  readonly secret: string | undefined;
  readonly issuer: string;
  readonly audience: string;
  readonly accessTokenTTLSeconds: number;
  readonly sessionLifetimeSeconds: number;
  readonly idleTimeoutSeconds: number;
  readonly trustedIdleTimeoutSeconds: number;
  readonly refreshGraceSeconds: number;
  readonly passwordMinLength: number;
  readonly loginLimitPerIP: number;
  readonly loginLimitPerAccountIP: number;
  readonly loginLimitPerAccount: number;
  readonly reauthMaxAgeSeconds: number;
  /** SESSIOND_SMTP_URL; undefined: email codes are unavailable. Holds credentials: never log it. */
  readonly smtpURL: string | undefined;
  readonly mailFrom: string;
  readonly stepUpPasswordMinAgeSeconds: number;
  readonly signupLimitPerIP: number;
  /** SHA-256 (base64url) of each SESSIOND_ADMIN_API_KEYS key; the keys themselves are not kept. */
  readonly adminAPIKeyHashes: readonly string[];
  /** The ids of `clientRegistry`: every client a session may belong to. */
  readonly clients: readonly string[];
  /** SESSIOND_CLIENTS (or SESSIOND_CLIENTS_FILE) in full. */
  readonly clientRegistry: readonly RegisteredClient[];
  readonly resourceServers: readonly BasicClient[];
  /** SESSIOND_BACKENDS, with the highest `acr` each may assert (SESSIOND_BACKENDS_AAL2). */
  readonly backends: readonly RegisteredBackend[];
  readonly customClaims: CustomClaimsPolicy;
  readonly logLevel: string;
  readonly webhookURLs: readonly string[];
  readonly webhookSecret: string | undefined;
  readonly webhookRetryBaseSeconds: number;
  readonly webhookRetryMaxSeconds: number;
  readonly webhookTimeoutMs: number;
  /** SESSIOND_VAPID_* (decision 037); `keys` undefined: generated once and sealed in the store. */
  readonly push: PushConfig;
  /** Normalised origins (`scheme://host[:port]`); empty means same-origin only, no CORS headers. */
  readonly corsOrigins: readonly string[];
  readonly bodyLimitBytes: number;
  readonly sweepIntervalSeconds: number;
  /** SESSIOND_RETENTION_* and SESSIOND_STATE_OP_RETENTION_DAYS: what the sweeper deletes when (decision 034). */
  readonly retention: RetentionPolicy;
  readonly stateMaxBytes: number;
  readonly stateOpsPerSecond: number;
  readonly stateOpsBurst: number;
  readonly stateMaxNamespaces: number;
  readonly stateMaxUserBytes: number;
  readonly syncMaxBufferedBytes: number;
  readonly syncSubscribesPerSecond: number;
  readonly syncSubscribeBurst: number;
  readonly trustProxy: boolean;
  /** SESSIOND_IP_STORAGE: the form every stored client IP takes. */
  readonly ipStorage: IPStorageMode;
  /** SESSIOND_GEOIP: location lookup on. */
  readonly geoIP: boolean;
  readonly risk: RiskPolicy;
  /** Upstream OpenID providers (SESSIOND_OIDC_PROVIDERS); empty: none. */
  readonly oidcProviders: readonly OIDCProviderConfig[];
  /** SESSIOND_OIDC_REDIRECTS, normalised; empty: sessiond's own origin only. */
  readonly oidcRedirects: readonly string[];
  /** The WebAuthn relying party (SESSIOND_WEBAUTHN_*), defaults from the issuer. */
  readonly webauthn: WebAuthnConfig;
  /** TEST ONLY: SESSIOND_TEST_FAULT, undefined unless the chaos suite set it. */
  readonly testFault: TestFault | undefined;
}

/** An app backend allowed to create sessions (decision 022). */
export interface RegisteredBackend extends BasicClient {
  readonly maxAcr: 'aal1' | 'aal2';
}

export class ConfigError extends Error {
  override readonly name = 'ConfigError';
  readonly code = 'invalid_config';
}

/**
 * `SESSIOND_*` variables that configure nothing: almost always a typo, so start-up warns.
 * (`SESSIOND_TEST_*` belong to the test suites.)
 */
export function unknownVariables(env: Record<string, string | undefined>): string[] {
  const known = new Set(Object.keys(EnvSchema.shape));
  return Object.keys(env).filter(
    (key) => key.startsWith('SESSIOND_') && !key.startsWith('SESSIOND_TEST_') && !known.has(key),
  );
}

/** Web Push settings (decision 037). */
export interface PushConfig {
  /** SESSIOND_VAPID_PUBLIC_KEY/_PRIVATE_KEY, base64url; undefined: the store's generated pair. */
  readonly keys: { readonly publicKey: string; readonly privateKey: string } | undefined;
  readonly subject: string;
  readonly limitPerHour: number;
  readonly maxAttempts: number;
  readonly sessionsURL: string | undefined;
  readonly cartURL: string | undefined;
  readonly allowHTTPEndpoints: boolean;
}

/** Reads, validates and freezes the configuration; throws ConfigError listing every problem. */
export function loadConfig(env: Record<string, string | undefined>): Config {
  const relevant = Object.fromEntries(
    Object.entries(env).filter(([key, value]) => key.startsWith('SESSIOND_') && value !== ''),
  );
  const parsed = EnvSchema.safeParse(relevant);
  if (!parsed.success) {
    const problems = parsed.error.issues.map((issue) => `  ${issue.path.join('.')}: ${issue.message}`);
    throw new ConfigError(`invalid configuration:\n${problems.join('\n')}`);
  }
  const e = parsed.data;
  const resourceServers = idSecretPairs('SESSIOND_RESOURCE_SERVERS', e.SESSIOND_RESOURCE_SERVERS ?? []);
  const backends = registeredBackends(e.SESSIOND_BACKENDS ?? [], e.SESSIOND_BACKENDS_AAL2 ?? []);
  const clientRegistry = registeredClients(e.SESSIOND_CLIENTS, e.SESSIOND_CLIENTS_FILE);
  if (e.SESSIOND_IDLE_TIMEOUT_MINUTES > e.SESSIOND_TRUSTED_IDLE_TIMEOUT_MINUTES) {
    throw new ConfigError(
      'invalid configuration:\n  SESSIOND_TRUSTED_IDLE_TIMEOUT_MINUTES: must not be shorter than SESSIOND_IDLE_TIMEOUT_MINUTES',
    );
  }
  if ((e.SESSIOND_WEBHOOK_URLS ?? []).length > 0 && e.SESSIOND_WEBHOOK_SECRET === undefined) {
    throw new ConfigError(
      'invalid configuration:\n  SESSIOND_WEBHOOK_SECRET: required when SESSIOND_WEBHOOK_URLS is set (webhooks are always signed)',
    );
  }
  if (e.SESSIOND_DATABASE_URL !== undefined && e.SESSIOND_SECRET === undefined) {
    throw new ConfigError(
      'invalid configuration:\n  SESSIOND_SECRET: required with SESSIOND_DATABASE_URL (every node must seal and open keys with the same secret)',
    );
  }
  if (e.SESSIOND_DATABASE_URL !== undefined && e.SESSIOND_ISSUER === undefined) {
    throw new ConfigError(
      'invalid configuration:\n  SESSIOND_ISSUER: required with SESSIOND_DATABASE_URL (nodes sharing a database must name one issuer; the default http://HOST:PORT differs per node, and each would refuse tokens the others issued)',
    );
  }
  if (e.SESSIOND_REDIS_URL !== undefined && e.SESSIOND_DATABASE_URL === undefined) {
    throw new ConfigError(
      'invalid configuration:\n  SESSIOND_REDIS_URL: needs SESSIOND_DATABASE_URL (the embedded SQLite serves one node; several nodes share PostgreSQL)',
    );
  }
  if ((e.SESSIOND_VAPID_PUBLIC_KEY === undefined) !== (e.SESSIOND_VAPID_PRIVATE_KEY === undefined)) {
    throw new ConfigError(
      'invalid configuration:\n  SESSIOND_VAPID_PUBLIC_KEY / SESSIOND_VAPID_PRIVATE_KEY: set both or neither (neither: a key pair is generated and sealed in the store)',
    );
  }
  if (e.SESSIOND_WEBHOOK_RETRY_BASE_SECONDS > e.SESSIOND_WEBHOOK_RETRY_MAX_SECONDS) {
    throw new ConfigError(
      'invalid configuration:\n  SESSIOND_WEBHOOK_RETRY_MAX_SECONDS: must not be shorter than SESSIOND_WEBHOOK_RETRY_BASE_SECONDS',
    );
  }
  const issuer = (e.SESSIOND_ISSUER ?? `http://${e.SESSIOND_HOST}:${e.SESSIOND_PORT}`).replace(/\/$/, '');
  let webauthn: WebAuthnConfig;
  try {
    webauthn = webAuthnConfigFrom({
      issuer,
      rpID: e.SESSIOND_WEBAUTHN_RP_ID,
      rpName: e.SESSIOND_WEBAUTHN_RP_NAME,
      origins: e.SESSIOND_WEBAUTHN_ORIGINS,
    });
  } catch (error) {
    throw new ConfigError(
      `invalid configuration:\n  SESSIOND_WEBAUTHN_RP_ID / SESSIOND_WEBAUTHN_ORIGINS: ${(error as Error).message}`,
    );
  }
  const config: Config = {
    host: e.SESSIOND_HOST,
    port: e.SESSIOND_PORT,
    dataDir: e.SESSIOND_DATA_DIR,
    databaseURL: e.SESSIOND_DATABASE_URL,
    databasePoolSize: e.SESSIOND_DATABASE_POOL_SIZE,
    redisURL: e.SESSIOND_REDIS_URL,
    shutdownGraceSeconds: e.SESSIOND_SHUTDOWN_GRACE_SECONDS,
    secret: e.SESSIOND_SECRET,
    issuer,
    audience: e.SESSIOND_AUDIENCE,
    accessTokenTTLSeconds: e.SESSIOND_ACCESS_TOKEN_TTL_MINUTES * 60,
    sessionLifetimeSeconds: e.SESSIOND_REFRESH_TOKEN_TTL_DAYS * 86_400,
    idleTimeoutSeconds: e.SESSIOND_IDLE_TIMEOUT_MINUTES * 60,
    trustedIdleTimeoutSeconds: e.SESSIOND_TRUSTED_IDLE_TIMEOUT_MINUTES * 60,
    refreshGraceSeconds: e.SESSIOND_REFRESH_GRACE_SECONDS,
    passwordMinLength: e.SESSIOND_PASSWORD_MIN_LENGTH,
    loginLimitPerIP: e.SESSIOND_LOGIN_LIMIT_PER_IP,
    loginLimitPerAccountIP: e.SESSIOND_LOGIN_LIMIT_PER_ACCOUNT_IP,
    loginLimitPerAccount: e.SESSIOND_LOGIN_LIMIT_PER_ACCOUNT,
    reauthMaxAgeSeconds: e.SESSIOND_REAUTH_MAX_AGE_SECONDS,
    smtpURL: e.SESSIOND_SMTP_URL,
    mailFrom:
      e.SESSIOND_MAIL_FROM ??
      `sessiond <no-reply@${new URL(e.SESSIOND_ISSUER ?? `http://${e.SESSIOND_HOST}`).hostname}>`,
    stepUpPasswordMinAgeSeconds: e.SESSIOND_STEP_UP_PASSWORD_MIN_AGE_SECONDS,
    signupLimitPerIP: e.SESSIOND_SIGNUP_LIMIT_PER_IP,
    adminAPIKeyHashes: Object.freeze(e.SESSIOND_ADMIN_API_KEYS ?? []),
    clients: Object.freeze(clientRegistry.map((client) => client.id)),
    clientRegistry: Object.freeze(clientRegistry),
    resourceServers: Object.freeze(resourceServers),
    backends,
    customClaims: Object.freeze({
      names: Object.freeze(e.SESSIOND_CUSTOM_CLAIMS ?? []),
      maxBytes: e.SESSIOND_CUSTOM_CLAIMS_MAX_BYTES,
    }),
    logLevel: e.SESSIOND_LOG_LEVEL,
    webhookURLs: Object.freeze(e.SESSIOND_WEBHOOK_URLS ?? []),
    webhookSecret: e.SESSIOND_WEBHOOK_SECRET,
    webhookRetryBaseSeconds: e.SESSIOND_WEBHOOK_RETRY_BASE_SECONDS,
    webhookRetryMaxSeconds: e.SESSIOND_WEBHOOK_RETRY_MAX_SECONDS,
    webhookTimeoutMs: e.SESSIOND_WEBHOOK_TIMEOUT_MS,
    push: Object.freeze({
      keys:
        e.SESSIOND_VAPID_PUBLIC_KEY !== undefined && e.SESSIOND_VAPID_PRIVATE_KEY !== undefined
          ? Object.freeze({
              publicKey: e.SESSIOND_VAPID_PUBLIC_KEY,
              privateKey: e.SESSIOND_VAPID_PRIVATE_KEY,
            })
          : undefined,
      subject: e.SESSIOND_VAPID_SUBJECT ?? `mailto:no-reply@${new URL(issuer).hostname}`,
      limitPerHour: e.SESSIOND_PUSH_LIMIT_PER_HOUR,
      maxAttempts: e.SESSIOND_PUSH_MAX_ATTEMPTS,
      sessionsURL: e.SESSIOND_PUSH_SESSIONS_URL,
      cartURL: e.SESSIOND_PUSH_CART_URL,
      allowHTTPEndpoints: e.SESSIOND_PUSH_ALLOW_HTTP_ENDPOINTS === 'true',
    }),
    corsOrigins: Object.freeze(e.SESSIOND_CORS_ORIGINS ?? []),
    bodyLimitBytes: e.SESSIOND_BODY_LIMIT_BYTES,
    sweepIntervalSeconds: e.SESSIOND_SWEEP_INTERVAL_SECONDS,
    retention: Object.freeze({
      auditLogDays: e.SESSIOND_RETENTION_AUDIT_LOG_DAYS,
      endedSessionsDays: e.SESSIOND_RETENTION_ENDED_SESSIONS_DAYS,
      devicesDays: e.SESSIOND_RETENTION_DEVICES_DAYS,
      stateOperationsDays: e.SESSIOND_STATE_OP_RETENTION_DAYS,
      batchSize: e.SESSIOND_RETENTION_BATCH_SIZE,
    }),
    stateMaxBytes: e.SESSIOND_STATE_MAX_BYTES,
    stateOpsPerSecond: e.SESSIOND_STATE_OPS_PER_SECOND,
    stateOpsBurst: e.SESSIOND_STATE_OPS_BURST,
    stateMaxNamespaces: e.SESSIOND_STATE_MAX_NAMESPACES,
    stateMaxUserBytes: e.SESSIOND_STATE_MAX_USER_BYTES,
    syncMaxBufferedBytes: e.SESSIOND_SYNC_MAX_BUFFERED_BYTES,
    syncSubscribesPerSecond: e.SESSIOND_SYNC_SUBSCRIBES_PER_SECOND,
    syncSubscribeBurst: e.SESSIOND_SYNC_SUBSCRIBE_BURST,
    trustProxy: e.SESSIOND_TRUST_PROXY === 'true',
    ipStorage: e.SESSIOND_IP_STORAGE,
    geoIP: e.SESSIOND_GEOIP === 'true',
    oidcProviders: e.SESSIOND_OIDC_PROVIDERS ?? Object.freeze([]),
    oidcRedirects: e.SESSIOND_OIDC_REDIRECTS ?? Object.freeze([]),
    webauthn,
    testFault: e.SESSIOND_TEST_FAULT,
    risk: {
      weights: { ...DEFAULT_RISK_WEIGHTS, ...e.SESSIOND_RISK_WEIGHTS },
      threshold: e.SESSIOND_RISK_THRESHOLD,
      failedLogins: e.SESSIOND_RISK_FAILED_LOGINS,
      maxSessions: e.SESSIOND_RISK_MAX_SESSIONS,
      velocityNetworks: e.SESSIOND_RISK_VELOCITY_NETWORKS,
      windowMs: e.SESSIOND_RISK_WINDOW_MINUTES * 60_000,
    },
  };
  return Object.freeze(config);
}

/** `id:secret` pairs (the secret may contain `:`), kept as id and SHA-256 of the secret. */
function idSecretPairs(
  variable: string,
  pairs: readonly string[],
  rules: { idPattern?: RegExp; minSecretLength?: number } = {},
): BasicClient[] {
  const clients = pairs.map((pair) => {
    const at = pair.indexOf(':');
    if (at <= 0 || at === pair.length - 1) {
      throw new ConfigError(`invalid configuration:\n  ${variable}: expected id:secret pairs`);
    }
    const id = pair.slice(0, at);
    const secret = pair.slice(at + 1);
    if (rules.idPattern && !rules.idPattern.test(id)) {
      throw new ConfigError(
        `invalid configuration:\n  ${variable}: "${id}" is not an id (1-64 of A-Z a-z 0-9 . _ -)`,
      );
    }
    if (secret.length < (rules.minSecretLength ?? 1)) {
      throw new ConfigError(
        `invalid configuration:\n  ${variable}: the secret of "${id}" must be at least ${rules.minSecretLength} characters`,
      );
    }
    return basicClient(id, secret);
  });
  const ids = clients.map((client) => client.id);
  const repeated = ids.find((id, index) => ids.indexOf(id) !== index);
  if (repeated !== undefined) {
    throw new ConfigError(`invalid configuration:\n  ${variable}: "${repeated}" is named twice`);
  }
  return clients;
}

/** SESSIOND_CLIENTS or the file SESSIOND_CLIENTS_FILE names; `default` when neither is set. */
function registeredClients(inline: string | undefined, file: string | undefined): RegisteredClient[] {
  if (inline !== undefined && file !== undefined) {
    throw new ConfigError(
      'invalid configuration:\n  SESSIOND_CLIENTS_FILE: set it or SESSIOND_CLIENTS, not both',
    );
  }
  const [name, text] =
    file !== undefined
      ? ['SESSIOND_CLIENTS_FILE', readClientsFile(file)]
      : ['SESSIOND_CLIENTS', inline ?? 'default'];
  try {
    return parseClientRegistry(text);
  } catch (error) {
    throw new ConfigError(`invalid configuration:\n  ${name}: ${(error as Error).message}`);
  }
}

function readClientsFile(path: string): string {
  try {
    return readFileSync(path, 'utf8');
  } catch (error) {
    throw new ConfigError(
      `invalid configuration:\n  SESSIOND_CLIENTS_FILE: cannot read ${path}: ${(error as Error).message}`,
    );
  }
}

/** SESSIOND_BACKENDS with SESSIOND_BACKENDS_AAL2, which may name configured backends only. */
function registeredBackends(pairs: readonly string[], aal2: readonly string[]): readonly RegisteredBackend[] {
  const clients = idSecretPairs('SESSIOND_BACKENDS', pairs, {
    idPattern: /^[A-Za-z0-9._-]{1,64}$/,
    minSecretLength: 32,
  });
  const unknown = aal2.find((id) => !clients.some((client) => client.id === id));
  if (unknown !== undefined) {
    throw new ConfigError(
      `invalid configuration:\n  SESSIOND_BACKENDS_AAL2: "${unknown}" is not a backend of SESSIOND_BACKENDS`,
    );
  }
  return Object.freeze(
    clients.map((client) =>
      Object.freeze({ ...client, maxAcr: aal2.includes(client.id) ? 'aal2' : 'aal1' } as const),
    ),
  );
}
