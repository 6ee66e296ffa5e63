import { Counter, collectDefaultMetrics, Gauge, Histogram, Registry } from 'prom-client';
import type { EventBus } from '../bus/event-bus.js';
import { RETENTION_KINDS, type RetentionKind } from '../retention/retention-policy.js';

/** What the scrape reads at the moment it happens, rather than counting events. */
export interface MetricsSources {
  activeSessions(): Promise<number>;
  webSocketConnections(): number;
  webhookBacklog(): Promise<number>;
  /** Session ends not yet passed by the furthest-behind back-channel logout client (decision 030). */
  backchannelLogoutBacklog(): Promise<number>;
  /** Whether the event bus reaches the other nodes (always, in-process). */
  busConnected(): boolean;
}

/**
 * The Prometheus metrics (prom-client), in a registry of their own so two apps in one process
 * (tests) never share counters. Counters follow this node's own events on the bus (`bus.local`:
 * with several nodes, each counts what it did and Prometheus sums the nodes), whichever route or
 * sweeper made it happen; gauges are read at scrape time.
 */
export class Metrics {
  readonly registry = new Registry();
  readonly #refreshSeconds: Histogram<'outcome'>;
  readonly #refreshes: Counter<'outcome'>;
  readonly #refreshFailures: Counter<'reason'>;
  readonly #requests: Counter;
  readonly #revocationSocketSeconds: Histogram;
  readonly #retentionDeleted: Counter<'kind'>;
  readonly #retentionLastRun: Gauge;

  constructor(bus: Pick<EventBus, 'subscribe'>, sources: MetricsSources) {
    const registers = [this.registry];
    collectDefaultMetrics({ register: this.registry, prefix: 'sessiond_process_' });
    const logins = new Counter({
      name: 'sessiond_logins_total',
      help: 'Sign-ins by outcome',
      labelNames: ['outcome'],
      registers,
    });
    this.#refreshes = new Counter({
      name: 'sessiond_refreshes_total',
      help: 'Refresh-token exchanges by outcome (success, rejected, error)',
      labelNames: ['outcome'],
      registers,
    });
    this.#refreshSeconds = new Histogram({
      name: 'sessiond_refresh_duration_seconds',
      help: 'Time to answer a refresh',
      labelNames: ['outcome'],
      buckets: [0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1],
      registers,
    });
    this.#refreshFailures = new Counter({
      name: 'sessiond_refresh_failures_total',
      help: 'Refused or failed refresh-token exchanges, by the error code answered',
      labelNames: ['reason'],
      registers,
    });
    this.#requests = new Counter({
      name: 'sessiond_http_requests_total',
      help: 'HTTP requests answered by this node',
      registers,
    });
    this.#revocationSocketSeconds = new Histogram({
      name: 'sessiond_revocation_socket_close_seconds',
      help: "From a session's revocation (the event's time) to the close frame of its sync socket on this node",
      buckets: [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
      registers,
    });
    this.#retentionDeleted = new Counter({
      name: 'sessiond_retention_deleted_total',
      help: 'Rows deleted by this node as past their retention, by kind (decision 034)',
      labelNames: ['kind'],
      registers,
    });
    for (const kind of RETENTION_KINDS) this.#retentionDeleted.inc({ kind }, 0);
    this.#retentionLastRun = new Gauge({
      name: 'sessiond_retention_last_run_timestamp_seconds',
      help: 'When this node last finished a retention pass (Unix seconds); 0 before the first',
      registers,
    });
    const reuses = new Counter({
      name: 'sessiond_refresh_token_reuse_total',
      help: 'Refresh-token reuse detections',
      registers,
    });
    const stepUps = new Counter({
      name: 'sessiond_step_ups_total',
      help: 'Step-up demands (required) and step-ups done (completed)',
      labelNames: ['event'],
      registers,
    });
    const verdicts = new Counter({
      name: 'sessiond_sign_in_risk_verdicts_total',
      help: 'Risk verdicts at sign-in: allowed, step_up_required (flagged session), second_factor_required (no session yet), second_factor_passed',
      labelNames: ['verdict'],
      registers,
    });
    const revocations = new Counter({
      name: 'sessiond_revocations_total',
      help: 'Sessions revoked, by reason',
      labelNames: ['reason'],
      registers,
    });
    const expirations = new Counter({
      name: 'sessiond_expirations_total',
      help: 'Sessions that timed out, by reason',
      labelNames: ['reason'],
      registers,
    });
    new Gauge({
      name: 'sessiond_active_sessions',
      help: 'Live sessions (not ended, before both deadlines)',
      registers,
      async collect() {
        this.set(await sources.activeSessions());
      },
    });
    new Gauge({
      name: 'sessiond_websocket_connections',
      help: 'Authenticated sync WebSockets open on this node',
      registers,
      collect() {
        this.set(sources.webSocketConnections());
      },
    });
    new Gauge({
      name: 'sessiond_webhook_backlog',
      help: 'Lifecycle events not yet delivered to the furthest-behind webhook endpoint',
      registers,
      async collect() {
        this.set(await sources.webhookBacklog());
      },
    });
    new Gauge({
      name: 'sessiond_backchannel_logout_backlog',
      help: 'Session ends not yet passed by the furthest-behind back-channel logout client (of any client)',
      registers,
      async collect() {
        this.set(await sources.backchannelLogoutBacklog());
      },
    });
    new Gauge({
      name: 'sessiond_event_bus_connected',
      help: '1 while events reach every node (Redis up, or a single node); 0 while this node serves alone',
      registers,
      collect() {
        this.set(sources.busConnected() ? 1 : 0);
      },
    });
    for (const outcome of ['success', 'failure']) logins.inc({ outcome }, 0);
    for (const verdict of ['allowed', 'step_up_required', 'second_factor_required', 'second_factor_passed']) {
      verdicts.inc({ verdict }, 0);
    }
    bus.subscribe('session.created', (e) => {
      logins.inc({ outcome: 'success' });
      verdicts.inc({ verdict: e.risk });
    });
    bus.subscribe('login.second_factor_required', () => verdicts.inc({ verdict: 'second_factor_required' }));
    bus.subscribe('login.failed', () => logins.inc({ outcome: 'failure' }));
    bus.subscribe('refresh_token.reused', () => reuses.inc());
    bus.subscribe('session.step_up_required', () => stepUps.inc({ event: 'required' }));
    bus.subscribe('session.step_up', () => stepUps.inc({ event: 'completed' }));
    bus.subscribe('session.revoked', (e) => revocations.inc({ reason: e.reason }));
    bus.subscribe('session.expired', (e) => expirations.inc({ reason: e.reason }));
  }

  /**
   * One refresh answered: `status` is the HTTP status, `seconds` the time to answer, `failure` the
   * error code of a refusal (`outcome` when the answer named none).
   */
  observeRefresh(status: number, seconds: number, failure?: string): void {
    const outcome = status < 400 ? 'success' : status < 500 ? 'rejected' : 'error';
    this.#refreshes.inc({ outcome });
    this.#refreshSeconds.observe({ outcome }, seconds);
    if (outcome !== 'success') this.#refreshFailures.inc({ reason: failure ?? outcome });
  }

  /** One request answered, whatever its route: the dashboard's request rate. */
  observeRequest(): void {
    this.#requests.inc();
  }

  /** Retention deleted `rows` of `kind`. */
  observeRetentionDeleted(kind: RetentionKind, rows: number): void {
    if (rows > 0) this.#retentionDeleted.inc({ kind }, rows);
  }

  /** A retention pass finished at `at` (epoch ms). */
  observeRetentionRun(at: number): void {
    this.#retentionLastRun.set(at / 1000);
  }

  /** A revoked session's sync socket was sent its close frame, `seconds` after the revocation. */
  observeRevocationSocketClose(seconds: number): void {
    this.#revocationSocketSeconds.observe(Math.max(0, seconds));
  }
}
