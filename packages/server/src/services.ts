import type { FastifyBaseLogger } from 'fastify';
import { AccountService } from './accounts/account-service.js';
import { FactorChanges } from './accounts/factor-changes.js';
import { LoginThrottle } from './accounts/login-throttle.js';
import { TOTPFactor } from './accounts/totp-factor.js';
import { AdminAnalytics } from './admin/admin-analytics.js';
import { AdminAuthenticator } from './admin/admin-authenticator.js';
import { AdminService } from './admin/admin-service.js';
import { AdminStore } from './admin/admin-store.js';
import { AdminUISession } from './admin-ui/admin-ui-session.js';
import { HealthStreams } from './admin-ui/health-stream.js';
import { UserLookup } from './admin-ui/user-lookup.js';
import { BackendService } from './backends/backend-service.js';
import { BackendUsers } from './backends/backend-users.js';
import type { EventBus } from './bus/event-bus.js';
import { CeremonyStore } from './ceremonies/ceremony-store.js';
import type { Clock } from './clock.js';
import type { Config } from './config.js';
import { DeviceService } from './devices/device-service.js';
import { EmailCodes } from './factors/email-codes.js';
import { FactorVerifier } from './factors/factor-verifier.js';
import { CookieTransport } from './http/cookie-transport.js';
import { SecretBox } from './lib/crypto.js';
import { mailerFrom } from './mail/mailer.js';
import { Metrics } from './metrics/metrics.js';
import { OAuthService } from './oauth/oauth-service.js';
import { LoginCodeStore } from './oidc/login-code-store.js';
import { LoginStateCookie } from './oidc/login-state.js';
import { OIDCSignIn } from './oidc/oidc-sign-in.js';
import { RedirectAllowList } from './oidc/redirect-allow-list.js';
import { UpstreamProviders } from './oidc/upstream-providers.js';
import { PasskeyCeremonies } from './passkeys/passkey-ceremonies.js';
import { PasskeyService } from './passkeys/passkey-service.js';
import { PasskeyStore } from './passkeys/passkey-store.js';
import { AccountErasure } from './privacy/account-erasure.js';
import { AccountExport } from './privacy/account-export.js';
import type { ClientAddresses } from './privacy/client-address.js';
import { AuthorizationCodeStore } from './provider/authorization-code-store.js';
import { AuthorizationService } from './provider/authorization-service.js';
import { backchannelLogoutDispatcherFrom } from './provider/backchannel-logout.js';
import { AuthorizationCodeGrant } from './provider/code-grant.js';
import { EndSession } from './provider/end-session.js';
import { IDTokenIssuer } from './provider/id-token-issuer.js';
import { SignInPage } from './provider/sign-in-page.js';
import { SignInPageCSRF } from './provider/sign-in-page-csrf.js';
import { SignInPageDevice } from './provider/sign-in-page-device.js';
import { SSOSessionCookie } from './provider/sso-session-cookie.js';
import { pushDispatcherFrom } from './push/push-dispatcher.js';
import { PushService } from './push/push-service.js';
import { PushStore } from './push/push-store.js';
import { openVAPIDKeys } from './push/vapid-keys.js';
import { InMemoryRateCounters } from './ratelimit/in-memory-rate-counters.js';
import type { RateCounters } from './ratelimit/rate-counters.js';
import { RetentionStore } from './retention/retention-store.js';
import { RetentionSweep } from './retention/retention-sweep.js';
import { RevocationStream } from './revocations/revocation-stream.js';
import { RiskEngine } from './risk/risk-engine.js';
import { Authenticator } from './sessions/authenticator.js';
import { PendingSignIns } from './sessions/pending-sign-ins.js';
import { SessionEnding } from './sessions/session-ending.js';
import { sessionPolicyFrom } from './sessions/session-policy.js';
import { SessionService, type TokenGrant } from './sessions/session-service.js';
import { SessionSweeper } from './sessions/session-sweeper.js';
import { StepUpPolicy } from './sessions/step-up-policy.js';
import type { SessionStore } from './store/session-store.js';
import type { StoreDatabase } from './store/transact.js';
import { OperationRateLimiter } from './sync/op-rate-limiter.js';
import { StateService } from './sync/state-service.js';
import { SyncHub } from './sync/sync-hub.js';
import { AccessTokenIssuer } from './tokens/access-token-issuer.js';
import { SigningKeyRing } from './tokens/signing-key-ring.js';
import { webhookDispatcherFrom } from './webhooks/webhook-dispatcher.js';

export type Services = Awaited<ReturnType<typeof createServices>>;

/** Wires the domain services together; the only place that knows every dependency. */
export async function createServices(input: {
  config: Config;
  store: SessionStore;
  /** The same database, for the stores of other concerns (webhooks, admin). */
  database: StoreDatabase;
  clock: Clock;
  bus: EventBus;
  /** Behind the sign-in and state-operation limits. Default: this process's memory. */
  counters?: RateCounters;
  masterSecret: string;
  /** Where request IPs become their stored form and a location (decision 035). */
  clientAddresses: ClientAddresses;
  log: FastifyBaseLogger;
}) {
  const { config, store, database, clock, bus, masterSecret } = input;
  const counters = input.counters ?? new InMemoryRateCounters();
  const policy = sessionPolicyFrom(config);
  const keys = await SigningKeyRing.open(store, new SecretBox(masterSecret, 'signing-keys'), clock, {
    accessTokenTTLSeconds: config.accessTokenTTLSeconds,
    reloadIntervalSeconds: config.sweepIntervalSeconds,
  });
  const issuer = new AccessTokenIssuer(keys, clock, {
    issuer: config.issuer,
    audience: config.audience,
    ttlSeconds: config.accessTokenTTLSeconds,
  });
  const totp = new TOTPFactor(store, clock, new SecretBox(masterSecret, 'totp'), new URL(config.issuer).host);
  const throttle = new LoginThrottle(counters, clock, {
    perIP: config.loginLimitPerIP,
    perAccountIP: config.loginLimitPerAccountIP,
    perAccount: config.loginLimitPerAccount,
    signupsPerIP: config.signupLimitPerIP,
  });
  const accounts = new AccountService(
    store,
    clock,
    throttle,
    {
      passwordMinLength: config.passwordMinLength,
    },
    totp,
  );
  const devices = new DeviceService(store, clock, bus, policy);
  const ending = new SessionEnding(store, clock, bus, config.accessTokenTTLSeconds * 1000);
  const ceremonies = new CeremonyStore(database);
  // Passkeys (decision 025). SessionService and StepUpPolicy are late-bound: both need passkeys first.
  const passkeys: PasskeyService = new PasskeyService({
    passkeys: new PasskeyStore(database),
    ceremonies: new PasskeyCeremonies(ceremonies, clock),
    store,
    sessions: {
      startSession: (user, start, context): Promise<TokenGrant> =>
        sessions.startSession(user, start, context),
      requireStepUp: (session, reason, detail): Promise<boolean> =>
        sessions.requireStepUp(session, reason, detail),
    },
    clock,
    bus,
    webauthn: config.webauthn,
    stepUpPolicy: {
      reauthenticatedUser: (auth) => stepUpPolicy.reauthenticatedUser(auth),
      requireNoPendingStepUp: (auth) => stepUpPolicy.requireNoPendingStepUp(auth),
    },
    log: input.log,
  });
  // Email one-time codes (decision 024); without SESSIOND_SMTP_URL there is no mailer and no codes.
  const mailer = mailerFrom(config);
  const emailCodes = new EmailCodes({ ceremonies, mailer, counters, clock, masterSecret });
  const factorVerifier = new FactorVerifier({ accounts, totp, passkeys, emailCodes });
  const stepUpPolicy = new StepUpPolicy({
    users: store,
    factors: factorVerifier,
    clock,
    passwordMinAgeMs: config.stepUpPasswordMinAgeSeconds * 1000,
    reauthMaxAgeMs: config.reauthMaxAgeSeconds * 1000,
  });
  const pendingSignIns = new PendingSignIns({
    ceremonies,
    factors: factorVerifier,
    secondFactors: {
      sendEmailCode: (user, binding, context) => emailCodes.send(user, binding, context),
      startPasskeyAssertion: (user, binding) => passkeys.startAssertion(user, binding),
    },
    store,
    clock,
    bus,
  });
  const authenticator = new Authenticator(store, clock, keys, ending, {
    issuer: config.issuer,
    audience: config.audience,
  });
  const sessions = new SessionService({
    store,
    clock,
    bus,
    accounts,
    devices,
    issuer,
    ending,
    policy,
    successorBox: new SecretBox(masterSecret, 'refresh-successor'),
    clients: config.clients,
    risk: new RiskEngine(config.risk),
    totp,
    riskWindowMs: config.risk.windowMs,
    pendingSignIns,
    factors: factorVerifier,
    stepUpPolicy,
    log: input.log,
  });
  const oauth = new OAuthService({
    store,
    clock,
    sessions,
    ending,
    authenticator,
    clients: config.clients,
    issuer: config.issuer,
  });
  const state = new StateService(
    store,
    clock,
    bus,
    new OperationRateLimiter(counters, clock, {
      perSecond: config.stateOpsPerSecond,
      burst: config.stateOpsBurst,
    }),
    {
      maxDocumentBytes: config.stateMaxBytes,
      userQuota: { maxNamespaces: config.stateMaxNamespaces, maxBytes: config.stateMaxUserBytes },
    },
  );
  const sweeper = new SessionSweeper(store, clock, ending, keys, {
    refreshGraceMs: policy.refreshGraceMs,
    // Late-bound: the outboxes and metrics it reports to are built below.
    retention: () => retention.run(),
  });
  const revocations = new RevocationStream(store, bus, clock, config.accessTokenTTLSeconds * 1000);
  const transport = new CookieTransport({ issuer: config.issuer, corsOrigins: config.corsOrigins, clock });
  const webhooks = webhookDispatcherFrom({ config, database, store, clock, bus });
  // Logout tokens to the clients with a back-channel logout URI, on the webhooks' outbox (decision 030).
  const backchannelLogout = backchannelLogoutDispatcherFrom({ config, database, store, clock, bus, keys });
  // Web Push (decision 037): the VAPID pair, subscriptions and opt-out, pushes on the outbox.
  const vapidKeys = await openVAPIDKeys({
    config: config.push,
    database,
    box: new SecretBox(masterSecret, 'vapid-keys'),
    clock,
  });
  const pushStore = new PushStore(database, new SecretBox(masterSecret, 'push-subscriptions'));
  const push = {
    service: new PushService({ keys: vapidKeys, pushes: pushStore, clock, config: config.push }),
    dispatcher: pushDispatcherFrom({
      config,
      database,
      store,
      pushes: pushStore,
      keys: vapidKeys,
      counters,
      clock,
      bus,
      log: input.log,
    }),
  };
  const syncHub = new SyncHub(bus, {
    clock,
    // Late-bound: metrics reads the hub's socket count, so it is built after it.
    onRevokedSocketClosed: (ms) => metrics.observeRevocationSocketClose(ms / 1000),
  });
  const metrics = new Metrics(bus.local, {
    busConnected: () => bus.connected,
    activeSessions: () => store.countLiveSessions(clock.now()),
    webSocketConnections: () => syncHub.size,
    webhookBacklog: () => webhooks.backlog(),
    backchannelLogoutBacklog: () => backchannelLogout.backlog(),
  });
  // Retention (decision 034): never past what an outbox of this node has not delivered yet.
  const retention = new RetentionSweep({
    store: new RetentionStore(database),
    sessions: store,
    clock,
    policy: config.retention,
    outboxKeys: () => [...webhooks.keys, ...backchannelLogout.keys, ...push.dispatcher.keys],
    report: {
      deleted: (kind, rows) => metrics.observeRetentionDeleted(kind, rows),
      ran: (at) => metrics.observeRetentionRun(at),
    },
  });
  // Sign-in through upstream OpenID providers (decision 023).
  const oidcProviders = new UpstreamProviders(config.oidcProviders);
  const oidc = new OIDCSignIn({
    providers: oidcProviders,
    redirects: new RedirectAllowList(config.oidcRedirects, config.issuer),
    store,
    codes: new LoginCodeStore(database),
    sessions,
    ending,
    clock,
    clients: config.clients,
    issuer: config.issuer,
    log: input.log,
  });
  // sessiond as an OpenID provider (issue 15): the browser's SSO session at its own pages.
  const ssoCookie = new SSOSessionCookie({
    box: new SecretBox(masterSecret, 'sso-session'),
    store,
    clock,
    issuer: config.issuer,
  });
  // RP-initiated logout (decision 030).
  const endSession = new EndSession({
    keys,
    store,
    ending,
    issuer: config.issuer,
    clients: config.clientRegistry,
    masterSecret,
  });
  const authorizationCodes = new AuthorizationCodeStore(database);
  const authorization = new AuthorizationService({
    codes: authorizationCodes,
    ceremonies,
    clock,
    issuer: config.issuer,
  });
  const authorizationCodeGrant = new AuthorizationCodeGrant({
    codes: authorizationCodes,
    store,
    sessions,
    ending,
    clock,
  });
  const idTokens = new IDTokenIssuer(keys, clock, {
    issuer: config.issuer,
    ttlSeconds: config.accessTokenTTLSeconds,
  });
  // sessiond's own sign-in page for authorization requests (decision 029).
  const signInPage = new SignInPage({
    authorization,
    sessions,
    passkeys,
    pendingSignIns,
    emailCodes,
    stepUpPolicy,
    store,
    ssoCookie,
    device: new SignInPageDevice(transport.cookies, config.issuer),
    csrf: new SignInPageCSRF({ masterSecret, issuer: config.issuer }),
    clients: config.clientRegistry,
  });
  const loginState = new LoginStateCookie({
    box: new SecretBox(masterSecret, 'oidc-login-state'),
    clock,
    issuer: config.issuer,
  });
  const adminStore = new AdminStore(database);
  const admin = {
    keys: new AdminAuthenticator(adminStore, config.adminAPIKeyHashes),
    service: new AdminService({ store, admin: adminStore, ending, clock }),
    analytics: new AdminAnalytics(adminStore, clock),
  };
  // The dashboard at /admin (decision 031): its cookie sign-in, user lookup and health stream.
  const adminUI = {
    session: new AdminUISession({
      keys: admin.keys,
      box: new SecretBox(masterSecret, 'admin-ui-session'),
      clock,
      issuer: config.issuer,
      masterSecret,
    }),
    users: new UserLookup({ store, backendIds: config.backends.map((backend) => backend.id) }),
    health: new HealthStreams({ registry: metrics.registry }),
  };
  const backends = new BackendService({
    store,
    clock,
    bus,
    sessions,
    users: new BackendUsers(store, clock),
    ending,
    admin: admin.service,
    claims: config.customClaims,
  });
  // Subject rights: export and erasure of an account (decision 036).
  const privacy = {
    exports: new AccountExport({ store, database, passkeys: new PasskeyStore(database), clock }),
    erasure: new AccountErasure({ store, ending, clock }),
  };
  return {
    config,
    store,
    database,
    privacy,
    clock,
    bus,
    keys,
    issuer,
    accounts,
    devices,
    ending,
    authenticator,
    sessions,
    totp,
    passkeys,
    ceremonies,
    factorVerifier,
    pendingSignIns,
    emailCodes,
    mailer,
    stepUpPolicy,
    factors: new FactorChanges({
      store,
      clock,
      bus,
      totp,
      stepUpPolicy,
    }),
    sweeper,
    retention,
    policy,
    oauth,
    revocations,
    oidc,
    oidcProviders,
    loginState,
    ssoCookie,
    endSession,
    signInPage,
    authorization,
    authorizationCodeGrant,
    idTokens,
    transport,
    state,
    syncHub,
    metrics,
    webhooks,
    backchannelLogout,
    push,
    admin,
    adminUI,
    backends,
    clientAddresses: input.clientAddresses,
  };
}
