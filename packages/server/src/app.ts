import { join } from 'node:path';
import fastifyCookie from '@fastify/cookie';
import fastifyCORS from '@fastify/cors';
import Fastify, { type FastifyInstance } from 'fastify';
import type { EventBus } from './bus/event-bus.js';
import { type OpenedBus, openBus } from './bus/open-bus.js';
import { type Clock, systemClock } from './clock.js';
import type { Config } from './config.js';
import { SessiondError } from './errors.js';
import { answeredErrorCode } from './http/answered-error.js';
import { answerClientError } from './http/client-error.js';
import { corsOptions } from './http/cors.js';
import { installErrorHandling } from './http/error-handler.js';
import { installJsonBody } from './http/json-body.js';
import { installNoStore } from './http/no-store.js';
import { lockDataDir } from './lib/data-dir-lock.js';
import { requestLogFields } from './lib/log.js';
import { clientAddressesFrom } from './privacy/client-address.js';
import { InMemoryRateCounters } from './ratelimit/in-memory-rate-counters.js';
import { accountDataRoutes } from './routes/account-data.js';
import { adminRoutes } from './routes/admin.js';
import { adminUIRoutes } from './routes/admin-ui.js';
import { authRoutes } from './routes/auth.js';
import { backendRoutes } from './routes/backend.js';
import { deviceRoutes } from './routes/devices.js';
import { endSessionRoutes } from './routes/end-session.js';
import { oauthRoutes } from './routes/oauth.js';
import { oidcRoutes } from './routes/oidc.js';
import { opsRoutes } from './routes/ops.js';
import { passkeyRoutes } from './routes/passkeys.js';
import { pushRoutes } from './routes/push.js';
import { revocationRoutes } from './routes/revocations.js';
import { sessionRoutes } from './routes/sessions.js';
import { signInPageRoutes } from './routes/sign-in-page.js';
import { stateRoutes } from './routes/state.js';
import { syncRoutes } from './routes/sync.js';
import { resolveMasterSecret } from './secret.js';
import { createServices, type Services } from './services.js';
import { CachedSessionStore } from './store/cached-session-store.js';
import { isSoleWriter, openStore } from './store/open-store.js';
import type { SessionStore } from './store/session-store.js';

declare module 'fastify' {
  interface FastifyInstance {
    sessiond: Services;
  }
}

export interface BuildAppOptions {
  config: Config;
  /** Defaults to the wall clock; tests pass one they can move. */
  clock?: Clock;
  bus?: EventBus;
  /** Wraps the session store the app opens: tests inject storage faults this way. */
  wrapStore?: (store: SessionStore) => SessionStore;
  /** Where log lines go; defaults to stdout. */
  logDestination?: NodeJS.WritableStream;
}

const REFRESH_ROUTES: ReadonlySet<string> = new Set(['/api/auth/session/refresh', '/oauth/token']);

/** Secrets that must never reach a log line, wherever pino finds them. */
const REDACT = [
  'req.headers.authorization',
  'req.headers.cookie',
  '*.password',
  '*.refresh_token',
  '*.access_token',
  '*.token',
  // A `sessiond.bearer.<token>` subprotocol carries an access token.
  'req.headers["sec-websocket-protocol"]',
];

/**
 * Builds the Fastify app from config, store, bus and clock. Never listens: `main.ts` does,
 * tests listen on port 0. Order: services, external plugins (CORS, cookies), error handling, then
 * routes.
 */
export async function buildApp(options: BuildAppOptions): Promise<FastifyInstance> {
  const { config } = options;
  const clock = options.clock ?? systemClock;
  const masterSecret = resolveMasterSecret(config);
  // Before the logger: request log lines carry the address in its stored form too.
  const clientAddresses = clientAddressesFrom(config, masterSecret.value);
  const app = Fastify({
    logger: {
      level: config.logLevel,
      redact: { paths: REDACT, censor: '[redacted]' },
      // Query values may be secrets a client should not have put there: keys only.
      serializers: { req: (request) => requestLogFields(request, clientAddresses) },
      ...(options.logDestination ? { stream: options.logDestination } : {}),
    },
    bodyLimit: config.bodyLimitBytes,
    // Requests Node's parser refuses (malformed, headers too large) answer in our contract too.
    clientErrorHandler: answerClientError,
    trustProxy: config.trustProxy,
    // While closing, new requests are refused by our onRequest hook below, in the {error,
    // message} contract; Fastify's own 503 body is not. Fastify still adds `Connection: close`.
    return503OnClosing: false,
    // Closing cuts idle kept-alive connections only: requests in flight finish (main.ts bounds
    // how long). Long-lived streams and sockets are ended by the preClose hook below.
    forceCloseConnections: 'idle',
  });
  if (masterSecret.source === 'generated') {
    app.log.warn(
      { file: join(config.dataDir, 'secret.key') },
      'SESSIOND_SECRET is not set: generated a development secret in the data dir; set SESSIOND_SECRET in production',
    );
  }
  // The embedded SQLite file has one owner; PostgreSQL is shared by every node.
  const soleWriter = isSoleWriter(config);
  const lock = soleWriter ? lockDataDir(config.dataDir) : undefined;
  let store: SessionStore;
  let services: Services;
  let openedBus: OpenedBus | undefined;
  try {
    const opened = await openStore(config);
    const wrapped = options.wrapStore ? options.wrapStore(opened) : opened;
    // Session reads are cached only where no other node can change a session behind our back.
    store = soleWriter ? new CachedSessionStore(wrapped) : wrapped;
    openedBus = options.bus
      ? { bus: options.bus, counters: new InMemoryRateCounters(), start: () => {}, close: async () => {} }
      : openBus({ config, store, clock, log: app.log });
    services = await createServices({
      config,
      store,
      database: opened.database,
      clock,
      bus: openedBus.bus,
      counters: openedBus.counters,
      masterSecret: masterSecret.value,
      clientAddresses,
      log: app.log,
    });
  } catch (error) {
    await openedBus?.close();
    lock?.release();
    throw error;
  }
  app.decorate('sessiond', services);

  // External plugins first. CORS only for configured origins: unset means same-origin only.
  if (config.corsOrigins.length > 0) await app.register(fastifyCORS, corsOptions(config.corsOrigins));
  // Parses the Cookie header for the cookie transport. Unsigned: the values are tokens checked anyway.
  await app.register(fastifyCookie);

  // JSON only: a text/plain body is refused with 415 rather than half-parsed.
  app.removeContentTypeParser('text/plain');
  // JSON as strict UTF-8: invalid bytes are refused, not stored as U+FFFD.
  installJsonBody(app);
  installErrorHandling(app);
  // Shutting down: a request that still reaches this node (on a kept-alive connection) was not
  // handled at all, so the client or load balancer can safely send it to another node.
  let shuttingDown = false;
  // A callback hook, not an async one: it runs on every request, and a promise each costs.
  app.addHook('onRequest', (_request, _reply, done) => {
    if (!shuttingDown) return done();
    done(new SessiondError('service_unavailable', 'this node is shutting down: send the request again'));
  });
  // A request in flight when the close began finishes, but its kept-alive connection must not
  // stay: the close closes only connections idle at its start, and would wait for this one's
  // keep-alive timeout (72 s). `Connection: close` ends it with its response.
  app.addHook('onSend', (_request, reply, payload, done) => {
    if (shuttingDown) reply.header('connection', 'close');
    done(null, payload);
  });
  // Refresh latency and outcomes for /metrics, measured around the whole request as clients see
  // it; a refused refresh by the error code it was answered with (the dashboard's health).
  app.addHook('onResponse', async (request, reply) => {
    services.metrics.observeRequest();
    if (REFRESH_ROUTES.has(request.routeOptions.url ?? '')) {
      services.metrics.observeRefresh(reply.statusCode, reply.elapsedTime / 1000, answeredErrorCode(request));
    }
  });
  installNoStore(app);

  await app.register(opsRoutes);
  await app.register(authRoutes);
  await app.register(oidcRoutes);
  await app.register(sessionRoutes);
  await app.register(passkeyRoutes);
  await app.register(deviceRoutes);
  await app.register(accountDataRoutes);
  await app.register(pushRoutes);
  await app.register(oauthRoutes);
  await app.register(endSessionRoutes);
  await app.register(signInPageRoutes);
  await app.register(revocationRoutes);
  await app.register(stateRoutes);
  await app.register(syncRoutes);
  await app.register(adminRoutes);
  await app.register(adminUIRoutes);
  await app.register(backendRoutes);

  const bus = openedBus;
  app.addHook('onReady', async () => {
    bus.start();
    services.syncHub.startHeartbeat();
    services.sweeper.start(config.sweepIntervalSeconds * 1000, (error) =>
      app.log.error({ err: error }, 'session sweep failed'),
    );
    // Cursors for new endpoints commit before the server takes requests: nothing slips past them.
    await services.webhooks.start(app.log);
    await services.backchannelLogout.start(app.log);
    await services.push.dispatcher.start(app.log);
  });
  app.addHook('preClose', async () => {
    shuttingDown = true;
    services.revocations.closeAll();
    services.syncHub.close();
    // Before onClose closes the store; a request in flight is aborted and sent again next start.
    await Promise.all([
      services.webhooks.stop(),
      services.backchannelLogout.stop(),
      services.push.dispatcher.stop(),
    ]);
  });
  app.addHook('onClose', async () => {
    await services.sweeper.stop();
    await bus.close();
    await store.close();
    lock?.release();
  });
  return app;
}
