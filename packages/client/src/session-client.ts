import type {
  DeviceInput,
  DeviceSummary,
  JSONObject,
  SessionSummary,
  SyncSessionEvent,
  TokenResponse,
} from '@sessiond/protocol';
import { atom, type ReadableAtom } from 'nanostores';
import { type DeviceManager, deviceManager } from './account-devices.js';
import { type SessionManager, sessionManager } from './account-sessions.js';
import { backoffDelay } from './backoff.js';
import {
  SESSION_ENDING_CODES,
  type SecondFactor,
  SecondFactorRequiredError,
  SessionClientError,
} from './errors.js';
import { healthScore, type SessionHealth } from './health.js';
import { callSessiond, type Transport, transportInit } from './http.js';
import {
  assertPasskey,
  type EmailCodeSent,
  emailCodeSent,
  type PasskeyManager,
  passkeyManager,
  type SessiondCall,
} from './passkeys.js';
import { defaultPlatform, type Platform, type TabChannel } from './platform.js';
import { type PushControls, pushControls } from './push.js';
import { type EndReason, nextStatus, type SessionEvent, type SessionState, SIGNED_OUT } from './state.js';
import { memoryStorage, type SessionStorage } from './storage.js';
import { SyncConnection, type WebSocketConstructor } from './sync/sync-connection.js';
import type { SyncedDocument } from './sync/sync-document.js';
import { UnlockGate, type UnlockOptions, type UnlockResult } from './unlock-gate.js';
import { browserWebAuthn, type WebAuthnAdapter } from './webauthn.js';

export interface SessionClientOptions {
  /** Where sessiond answers, e.g. `https://auth.example.com`. */
  baseUrl: string;
  /** `cookie` for web apps (no token readable by JavaScript), `bearer` for native and servers. Default `bearer`. */
  transport?: Transport;
  /** Default: memory. Browsers with the cookie transport: `browserStorage()`. Mobile: a SecureStorage adapter. */
  storage?: SessionStorage;
  /** Base for relative URLs given to `client.fetch`; default `baseUrl`. */
  apiBaseUrl?: string;
  /** Refresh this long before the access token expires (plus up to `refreshJitterMs`). Default 60 s. */
  refreshLeadMs?: number;
  /** Default 10 s: spreads the refreshes of many clients that signed in together. */
  refreshJitterMs?: number;
  /** Backoff for refreshes that fail for network or server reasons. */
  retry?: { baseMs?: number; capMs?: number; attemptsPerCall?: number };
  /** Local idle tracking: `touch` at most every `touchIntervalMs` of activity; end the session after `timeoutMs` without any. */
  idle?: { timeoutMs?: number; touchIntervalMs?: number };
  platform?: Platform;
  fetch?: typeof fetch;
  /** Storage key and cross-tab channel name; change to run two clients side by side. Default `sessiond`. */
  namespace?: string;
  /** For `sync()`: the WebSocket class. Default the global one (browsers, React Native); in Node pass `ws`. */
  webSocket?: WebSocketConstructor;
  /**
   * The passkey ceremonies. Default `browserWebAuthn()` (@simplewebauthn/browser); React Native
   * apps pass their native passkey module, tests a software authenticator.
   */
  webAuthn?: WebAuthnAdapter;
  /**
   * Mobile, bearer only: keep the refresh token in a biometric-protected keychain item and start
   * `locked` after a cold start, until `client.unlock()` passes the prompt (decision 027).
   */
  unlock?: UnlockOptions;
}

export interface SignInInput {
  email: string;
  password: string;
  /** A TOTP code from the user's authenticator app: the session starts at aal2. */
  totp?: string;
  device?: { name?: string; platform?: string };
}

/** What satisfies a step-up (decision 024); the server says which it accepts in `acr_values`. */
export type StepUpInput = { password: string } | { totp: string } | { emailCode: string } | { passkey: true };

/** A factor that satisfies a step-up, as `GET /api/auth/session/step-up` names it. */
export type StepUpFactor = SecondFactor | 'password';

/** What finishes a sign-in that answered `SecondFactorRequiredError`. */
export type SecondFactorInput = { totp: string } | { emailCode: string } | { passkey: true };

/** `session_event`: what the server says about the user's sessions (a `SyncSessionEvent`), while a sync socket is open. */
export type ClientEventName = 'signed_in' | 'refreshed' | 'ended' | 'step_up_required' | 'session_event';

export interface SessionClient {
  /** Resolves once the persisted session (if any) is restored: the state is known, no flash. */
  readonly ready: Promise<void>;
  /** The session state as a nanostores store: `get()`, `subscribe(fn)`, `listen(fn)`. */
  readonly state: ReadableAtom<SessionState>;
  /**
   * Signs in with email and password. A sign-in the server finds risky rejects with
   * `SecondFactorRequiredError` and no session: finish it with `completeSignIn`.
   */
  signIn(input: SignInInput): Promise<SessionState>;
  /** Discoverable passkey sign-in: the authenticator picks the account; no email typed. */
  signInWithPasskey(input?: { device?: SignInInput['device'] }): Promise<SessionState>;
  /** Finishes the sign-in that last rejected with `SecondFactorRequiredError`. */
  completeSignIn(input: SecondFactorInput): Promise<SessionState>;
  /** Mails a code for `completeSignIn({ emailCode })` (the pending sign-in's `email_code` factor). */
  sendSignInEmailCode(): Promise<EmailCodeSent>;
  /** The signed-in user's passkeys: register, list, remove. */
  readonly passkeys: PasskeyManager;
  /** The signed-in user's live sessions on every device: list, revoke one, revoke the others. */
  readonly sessions: SessionManager;
  /** The devices the signed-in user has signed in from: list, trust, forget. */
  readonly devices: DeviceManager;
  /** This device's Web Push subscription and the user's opt-out (decision 037). */
  readonly push: PushControls;
  /** Single-flight: concurrent calls share one refresh; across tabs, one tab refreshes. */
  refresh(): Promise<void>;
  /** fetch with the session attached; on 401 refreshes once and retries once. */
  fetch(input: string | URL | Request, init?: RequestInit): Promise<Response>;
  /**
   * Re-authenticates this session, after `step_up_required` or before a sensitive change
   * (registering a passkey, say). The session, its tokens' subject and every synced document
   * stay as they are; only the session's assurance (acr, amr, auth_time) moves.
   */
  stepUp(input: StepUpInput): Promise<void>;
  /** @deprecated Use `stepUp({ password })`. */
  stepUp(password: string): Promise<void>;
  /** Mails a code for `stepUp({ emailCode })`. */
  sendStepUpEmailCode(): Promise<EmailCodeSent>;
  /** The factors that would satisfy a step-up of this session now, strongest first: offer exactly those. */
  stepUpFactors(): Promise<StepUpFactor[]>;
  /**
   * With the `unlock` option: reads the refresh token back behind the biometric prompt and
   * refreshes. One prompt for concurrent calls. Cancelling keeps the client `locked`.
   */
  unlock(): Promise<UnlockResult>;
  /** With the `unlock` option: forgets the tokens held in memory (the app went to the background, say). */
  lock(): Promise<void>;
  /** Records user activity outside the browser (idle tracking). */
  activity(): void;
  health(): SessionHealth;
  signOut(): Promise<void>;
  signOutEverywhere(): Promise<void>;
  /**
   * The signed-in user's state document `namespace` (`cart`, `follows`, …), kept in sync with
   * every device over one WebSocket: edits apply locally at once and survive offline.
   */
  sync<T extends JSONObject = JSONObject>(namespace: string): SyncedDocument<T>;
  on(event: ClientEventName, handler: (detail: unknown) => void): () => void;
  close(): void;
}

/** What survives a restart; in cookie mode nothing secret (the tokens live in httpOnly cookies). */
interface Persisted {
  session: SessionSummary;
  user: { id: string };
  device: DeviceSummary;
  accessTokenExpiresAt: number;
  obtainedAt: number;
  accessToken?: string;
  refreshToken?: string;
}

type TabMessage =
  | { type: 'grant'; persisted: Persisted; event: SessionEvent }
  | { type: 'ended'; reason: EndReason }
  | { type: 'step_up_required' };

const REFRESH_LOCK = 'sessiond-refresh';

export function createSessionClient(options: SessionClientOptions): SessionClient {
  return new Client(options);
}

class Client implements SessionClient {
  readonly ready: Promise<void>;
  readonly #state = atom<SessionState>({ ...SIGNED_OUT, status: 'initializing' });
  readonly #options: SessionClientOptions;
  readonly #transport: Transport;
  readonly #storage: SessionStorage;
  readonly #platform: Platform;
  readonly #fetch: typeof fetch;
  readonly #keys: { prefix: string; session: string; device: string };
  readonly #channel: TabChannel | undefined;
  readonly #handlers = new Map<ClientEventName, Set<(detail: unknown) => void>>();
  readonly #unsubscribe: Array<() => void> = [];
  #persisted: Persisted | undefined;
  #inflight: Promise<void> | undefined;
  /** Bumped at every sign-in and sign-out: a refresh started before must not apply after. */
  #generation = 0;
  #refreshTimer: unknown;
  #idleTimer: unknown;
  #failures = 0;
  #lastRefresh: SessionHealth['lastRefresh'] = null;
  #lastActivity: number;
  #lastTouch = 0;
  #closed = false;
  /** The end in progress, if any (see #end). */
  #ending: Promise<void> | undefined;
  #sync: SyncConnection | undefined;
  readonly #gate: UnlockGate | undefined;
  #webAuthn: WebAuthnAdapter | undefined;
  /** The sign-in waiting for its second factor: the token never leaves the client. */
  #pending: { token: string; expiresAt: number; device: SignInInput['device'] } | undefined;
  #unlocking: Promise<UnlockResult> | undefined;
  readonly passkeys: PasskeyManager;
  readonly sessions: SessionManager;
  readonly devices: DeviceManager;
  readonly push: PushControls;

  constructor(options: SessionClientOptions) {
    this.#options = options;
    this.#transport = options.transport ?? 'bearer';
    if (options.unlock && this.#transport !== 'bearer') {
      // In cookie mode the refresh token is an HttpOnly cookie: there is nothing to lock away.
      throw new Error('the unlock option needs the bearer transport');
    }
    this.#storage = options.storage ?? memoryStorage();
    this.#platform = options.platform ?? defaultPlatform();
    this.#fetch = options.fetch ?? ((input, init) => fetch(input, init));
    const namespace = options.namespace ?? 'sessiond';
    this.#keys = { prefix: namespace, session: `${namespace}.session`, device: `${namespace}.device` };
    this.#gate = options.unlock ? new UnlockGate(options.unlock, namespace) : undefined;
    this.passkeys = passkeyManager(this.#signedInCall, () => this.#webAuthnAdapter());
    this.sessions = sessionManager(this.#signedInCall);
    this.devices = deviceManager(this.#signedInCall);
    this.push = pushControls(this.#signedInCall);
    this.#lastActivity = this.#platform.now();
    this.#channel = this.#platform.channel(namespace);
    if (this.#channel)
      this.#unsubscribe.push(this.#channel.onMessage((message) => this.#onTabMessage(message as TabMessage)));
    this.#unsubscribe.push(this.#platform.onWake(() => void this.#onWake()));
    this.#unsubscribe.push(this.#platform.onActivity(() => this.activity()));
    this.ready = this.#restore();
  }

  get state(): ReadableAtom<SessionState> {
    return this.#state;
  }

  async signIn(input: SignInInput): Promise<SessionState> {
    await this.ready;
    this.#pending = undefined;
    let grant: TokenResponse;
    try {
      grant = await this.#call<TokenResponse>('/api/auth/session/create', {
        method: 'POST',
        body: {
          email: input.email,
          password: input.password,
          ...(input.totp !== undefined ? { totp: input.totp } : {}),
          device: await this.#deviceInput(input.device),
        },
      });
    } catch (error) {
      throw this.#secondFactorRequired(error, input.device);
    }
    return this.#signedIn(grant);
  }

  async signInWithPasskey(input: { device?: SignInInput['device'] } = {}): Promise<SessionState> {
    await this.ready;
    const { ceremonyId, response } = await assertPasskey(
      this.#anonymousCall,
      this.#webAuthnAdapter(),
      '/api/auth/passkeys/sign-in/options',
      {},
    );
    const grant = await this.#call<TokenResponse>('/api/auth/passkeys/sign-in', {
      method: 'POST',
      body: { ceremony_id: ceremonyId, response, device: await this.#deviceInput(input.device) },
    });
    return this.#signedIn(grant);
  }

  async completeSignIn(input: SecondFactorInput): Promise<SessionState> {
    await this.ready;
    const pending = this.#pendingSignIn();
    const pendingToken = pending.token;
    let body: Record<string, unknown>;
    if ('passkey' in input) {
      const { ceremonyId, response } = await assertPasskey(
        this.#anonymousCall,
        this.#webAuthnAdapter(),
        '/api/auth/session/verify/passkey-options',
        { pending_token: pendingToken },
      );
      body = { pending_token: pendingToken, passkey: response, ceremony_id: ceremonyId };
    } else if ('totp' in input) {
      body = { pending_token: pendingToken, totp: input.totp };
    } else {
      body = { pending_token: pendingToken, email_code: input.emailCode };
    }
    body.device = await this.#deviceInput(pending.device);
    let grant: TokenResponse;
    try {
      grant = await this.#call<TokenResponse>('/api/auth/session/verify', { method: 'POST', body });
    } catch (error) {
      // A wrong code may be retried; a pending sign-in that is used up or expired may not.
      if (error instanceof SessionClientError && error.code === 'ceremony_invalid') this.#pending = undefined;
      throw error;
    }
    return this.#signedIn(grant);
  }

  async sendSignInEmailCode(): Promise<EmailCodeSent> {
    const answer = await this.#call<{ sent_to: string; expires_in: number }>(
      '/api/auth/session/verify/email-code',
      { method: 'POST', body: { pending_token: this.#pendingSignIn().token } },
    );
    return emailCodeSent(answer);
  }

  refresh(): Promise<void> {
    if (this.#inflight) return this.#inflight;
    const run = this.#refreshWithRetries(this.#generation).finally(() => {
      if (this.#inflight === run) this.#inflight = undefined;
    });
    this.#inflight = run;
    return run;
  }

  async fetch(input: string | URL | Request, init: RequestInit = {}): Promise<Response> {
    await this.ready;
    const expiresAt = this.#persisted?.accessTokenExpiresAt;
    if (expiresAt !== undefined && expiresAt - this.#platform.now() < 5_000)
      await this.refresh().catch(() => {});
    const first = await this.#send(input, init);
    if (first.status !== 401 || !this.#persisted) return first;
    if ((first.headers.get('www-authenticate') ?? '').includes('insufficient_user_authentication')) {
      this.#stepUpRequired({ broadcast: true });
      return first;
    }
    try {
      await this.refresh();
    } catch {
      return first;
    }
    // Exactly one retry: a second 401 is the answer, never a loop.
    return this.#send(input, init);
  }

  async stepUp(input: StepUpInput | string): Promise<void> {
    await this.ready;
    const proof = typeof input === 'string' ? { password: input } : input;
    let body: Record<string, unknown>;
    if ('passkey' in proof) {
      const { ceremonyId, response } = await assertPasskey(
        this.#signedInCall,
        this.#webAuthnAdapter(),
        '/api/auth/session/step-up/passkey-options',
        {},
      );
      body = { passkey: response, ceremony_id: ceremonyId };
    } else if ('emailCode' in proof) {
      body = { email_code: proof.emailCode };
    } else {
      body = proof;
    }
    const grant = await this.#signedInCall<TokenResponse>('/api/auth/session/step-up', {
      method: 'POST',
      body,
    });
    await this.#apply(grant, 'stepped_up');
  }

  async sendStepUpEmailCode(): Promise<EmailCodeSent> {
    const answer = await this.#signedInCall<{ sent_to: string; expires_in: number }>(
      '/api/auth/session/step-up/email-code',
      { method: 'POST', body: {} },
    );
    return emailCodeSent(answer);
  }

  async stepUpFactors(): Promise<StepUpFactor[]> {
    const answer = await this.#signedInCall<{ factors: StepUpFactor[] }>('/api/auth/session/step-up', {
      method: 'GET',
    });
    return answer.factors;
  }

  unlock(): Promise<UnlockResult> {
    if (!this.#gate) return Promise.reject(new Error('unlock() needs the unlock option'));
    this.#unlocking ??= this.#unlockNow(this.#gate).finally(() => {
      this.#unlocking = undefined;
    });
    return this.#unlocking;
  }

  async lock(): Promise<void> {
    await this.ready;
    if (!this.#gate || !this.#persisted) return;
    // A refresh in flight rotates the token: let it land in the keychain, or the next unlock
    // would present a replaced token (and, past the grace window, end the session as stolen).
    await this.#inflight?.catch(() => undefined);
    if (!this.#persisted || this.#state.get().status === 'unauthenticated') return;
    this.#persisted = withoutTokens(this.#persisted);
    this.#platform.cancel(this.#refreshTimer);
    this.#platform.cancel(this.#idleTimer);
    this.#dispatch('locked', this.#stateFrom(this.#persisted));
  }

  activity(): void {
    const now = this.#platform.now();
    this.#lastActivity = now;
    const interval = this.#options.idle?.touchIntervalMs ?? 60_000;
    const status = this.#state.get().status;
    if (status !== 'authenticated' || now - this.#lastTouch < interval) return;
    this.#lastTouch = now;
    void this.#call('/api/auth/session/touch', {
      method: 'POST',
      accessToken: this.#persisted?.accessToken,
    }).catch((error: unknown) => this.#onCallFailure(error));
  }

  health(): SessionHealth {
    const { status } = this.#state.get();
    const now = this.#platform.now();
    const expiresInMs = this.#persisted ? this.#persisted.accessTokenExpiresAt - now : null;
    return {
      status,
      expiresInMs,
      tokenAgeMs: this.#persisted ? now - this.#persisted.obtainedAt : null,
      lastRefresh: this.#lastRefresh,
      failures: this.#failures,
      score: healthScore({ status, expiresInMs, failures: this.#failures }),
    };
  }

  async signOut(): Promise<void> {
    await this.#call('/api/auth/session/logout', {
      method: 'POST',
      accessToken: this.#persisted?.accessToken,
    }).catch(() => undefined);
    await this.#end('signed_out', { broadcast: true });
  }

  async signOutEverywhere(): Promise<void> {
    await this.#call('/api/auth/session/revoke-all', {
      method: 'POST',
      body: { keep_current: false },
      accessToken: this.#persisted?.accessToken,
    });
    await this.#end('signed_out_everywhere', { broadcast: true });
  }

  sync<T extends JSONObject = JSONObject>(namespace: string): SyncedDocument<T> {
    if (!this.#sync) {
      const connection = this.#openSync();
      this.#sync = connection;
      // Follows the signed-in user: their documents load, the socket opens; signed out, it closes.
      // Locked, it has no credentials to open the socket with: as signed out until unlocked.
      const follow = (state: SessionState) =>
        void connection.setUser(
          state.status === 'unauthenticated' || state.status === 'locked'
            ? undefined
            : (state.user?.id ?? undefined),
        );
      this.#unsubscribe.push(this.#state.subscribe(follow));
    }
    return this.#sync.document(namespace) as unknown as SyncedDocument<T>;
  }

  on(event: ClientEventName, handler: (detail: unknown) => void): () => void {
    let handlers = this.#handlers.get(event);
    if (!handlers) {
      handlers = new Set();
      this.#handlers.set(event, handlers);
    }
    handlers.add(handler);
    return () => handlers.delete(handler);
  }

  close(): void {
    this.#closed = true;
    this.#platform.cancel(this.#refreshTimer);
    this.#platform.cancel(this.#idleTimer);
    for (const stop of this.#unsubscribe.splice(0)) stop();
    this.#channel?.close();
    this.#sync?.close();
  }

  // --- sync -----------------------------------------------------------------------------

  #openSync(): SyncConnection {
    const webSocket =
      this.#options.webSocket ?? (globalThis as { WebSocket?: WebSocketConstructor }).WebSocket;
    if (!webSocket) throw new Error('no WebSocket here: pass `webSocket` (in Node: the ws package)');
    return new SyncConnection({
      baseUrl: this.#options.baseUrl,
      webSocket,
      platform: this.#platform,
      storage: this.#storage,
      storagePrefix: this.#keys.prefix,
      retry: { baseMs: this.#options.retry?.baseMs ?? 500, capMs: this.#options.retry?.capMs ?? 30_000 },
      accessToken: async () => {
        if (this.#transport === 'cookie') return undefined;
        const expiresAt = this.#persisted?.accessTokenExpiresAt ?? 0;
        if (expiresAt - this.#platform.now() < 5_000) await this.refresh().catch(() => undefined);
        return this.#persisted?.accessToken;
      },
      renewCredentials: async () => {
        await this.refresh().catch(() => undefined);
        return this.#persisted !== undefined;
      },
      onSessionEvent: (event) => this.#onSessionEvent(event),
      onSessionEnded: (reason) => void this.#end(reason, { broadcast: true }),
    });
  }

  /** The server's word on the user's sessions: acted on when it concerns this one. */
  #onSessionEvent(event: SyncSessionEvent): void {
    this.#emit('session_event', event);
    if (event.session_id !== this.#persisted?.session.id) return;
    if (event.event === 'session.step_up_required') this.#stepUpRequired({ broadcast: true });
    // This event names the session that asked, and comes before the sessions' own revocations:
    // every tab of the asking device hears it before its socket closes, whoever answers first.
    if (event.event === 'session.logged_out_everywhere' && event.detail.kept_session_id !== event.session_id)
      void this.#end('signed_out_everywhere', { broadcast: true });
    if (event.event === 'session.revoked')
      void this.#end(revokedReason(event.detail.reason), { broadcast: true });
    // The app's backend changed this session's claims: the next access token carries them.
    if (event.event === 'session.claims_changed') void this.refresh().catch(() => undefined);
  }

  // --- start-up -------------------------------------------------------------------------

  /** Restores from storage before anyone reads the state; the server is asked in the background. */
  async #restore(): Promise<void> {
    const persisted = await this.#readPersisted();
    if (!persisted || Date.parse(persisted.session.expires_at) <= this.#platform.now()) {
      if (persisted) await this.#storage.remove(this.#keys.session);
      this.#dispatch('nothing_to_restore');
      return;
    }
    if (this.#gate) return this.#restoreLocked(this.#gate, persisted);
    this.#persisted = persisted;
    this.#dispatch('restored', this.#stateFrom(persisted));
    this.#scheduleRefresh();
    this.#armIdleTimer();
    void this.#validateInBackground();
  }

  /**
   * A cold start behind the unlock gate: locked, with no token in memory or in storage. A token
   * that storage still holds (from before the app turned the gate on) moves to the keychain.
   */
  async #restoreLocked(gate: UnlockGate, persisted: Persisted): Promise<void> {
    if (persisted.refreshToken) await gate.save(persisted.refreshToken);
    const bare = withoutTokens(persisted);
    if (persisted.refreshToken || persisted.accessToken)
      await this.#storage.set(this.#keys.session, JSON.stringify(bare));
    this.#persisted = bare;
    this.#dispatch('restored_locked', this.#stateFrom(bare));
  }

  async #unlockNow(gate: UnlockGate): Promise<UnlockResult> {
    await this.ready;
    const settled = (): UnlockResult => (this.#persisted ? 'unlocked' : 'ended');
    if (this.#state.get().status !== 'locked') return settled();
    const generation = this.#generation;
    const opened = await gate.open();
    // Signed in or out while the prompt was up: that answer stands.
    if (generation !== this.#generation || this.#state.get().status !== 'locked' || !this.#persisted)
      return settled();
    if (opened === 'cancelled') return 'cancelled';
    if (opened === 'missing') {
      await this.#end('keychain_lost', { broadcast: true });
      return 'ended';
    }
    this.#persisted = { ...this.#persisted, refreshToken: opened.refreshToken };
    this.#dispatch('unlocked', this.#stateFrom(this.#persisted));
    // No access token survives a cold start: get one. A network failure keeps the session
    // (offline, retried); a refused token ends it, as any refresh would.
    await this.refresh().catch(() => undefined);
    return settled();
  }

  /** A restored session may have been revoked while the app was closed: find out, quietly. */
  async #validateInBackground(): Promise<void> {
    try {
      if (!this.#persisted || this.#persisted.accessTokenExpiresAt - this.#platform.now() < 5_000) {
        await this.refresh();
      } else {
        await this.#call('/api/auth/session/status', {
          method: 'GET',
          accessToken: this.#persisted.accessToken,
        });
      }
    } catch (error) {
      await this.#onCallFailure(error);
    }
  }

  // --- refresh --------------------------------------------------------------------------

  async #refreshWithRetries(generation: number): Promise<void> {
    const attempts = this.#options.retry?.attemptsPerCall ?? 4;
    for (let attempt = 0; ; attempt += 1) {
      try {
        await this.#refreshOnce(generation);
        this.#failures = 0;
        return;
      } catch (error) {
        if (!(error instanceof SessionClientError)) throw error;
        const transient =
          error.kind === 'network' || error.kind === 'server' || error.kind === 'rate_limited';
        if (!transient || generation !== this.#generation) {
          await this.#onCallFailure(error);
          throw error;
        }
        this.#failures += 1;
        this.#dispatch('network_failed');
        if (attempt + 1 >= attempts) {
          // Keep the session; the refresh timer tries again later.
          this.#scheduleRefresh(this.#retryDelay(attempt + 1, error));
          throw error;
        }
        // Someone may await this refresh (the app, or fetch() for it): a sleep keeps a Node
        // process alive through the wait. A background refresh's retries do too, at most
        // attemptsPerCall of them, as its request in flight would (decision 021).
        await this.#platform.sleep(this.#retryDelay(attempt, error));
      }
    }
  }

  #retryDelay(attempt: number, error: SessionClientError): number {
    if (error.retryAfterMs !== undefined) return error.retryAfterMs;
    return backoffDelay(attempt, {
      baseMs: this.#options.retry?.baseMs ?? 500,
      capMs: this.#options.retry?.capMs ?? 30_000,
    });
  }

  async #refreshOnce(generation: number): Promise<void> {
    if (this.#state.get().status === 'locked') {
      throw new SessionClientError('locked', undefined, 'the session is locked: call client.unlock() first');
    }
    const started = this.#platform.now();
    // What this refresh is meant to replace, taken before waiting for the lock: by the time the
    // lock is ours, another tab may have refreshed and told us already.
    const replacing = this.#persisted;
    if (this.#state.get().status !== 'unauthenticated') this.#dispatch('refresh_started');
    try {
      await this.#platform.withLock(REFRESH_LOCK, async () => {
        if (generation !== this.#generation) return;
        // If anything newer than what we meant to replace is stored, another tab refreshed:
        // adopt its result instead of spending (in bearer mode, replaying) a replaced token.
        const stored = await this.#readPersisted();
        // Behind the unlock gate storage holds no token, and no other tab shares it.
        if (!this.#gate && stored && replacing && isNewer(stored, replacing)) {
          if (!this.#persisted || isNewer(stored, this.#persisted)) this.#adopt(stored, 'refreshed');
          else this.#dispatch('refreshed');
          return;
        }
        const grant = await this.#call<TokenResponse>('/api/auth/session/refresh', {
          method: 'POST',
          body: this.#transport === 'bearer' ? { refresh_token: this.#persisted?.refreshToken ?? '' } : {},
        });
        if (generation !== this.#generation) return;
        await this.#apply(grant, 'refreshed');
      });
      this.#lastRefresh = { ok: true, at: this.#platform.now(), latencyMs: this.#platform.now() - started };
    } catch (error) {
      this.#lastRefresh = {
        ok: false,
        at: this.#platform.now(),
        latencyMs: this.#platform.now() - started,
        error: error instanceof SessionClientError ? (error.code ?? error.kind) : String(error),
      };
      throw error;
    }
  }

  #scheduleRefresh(delayMs?: number): void {
    this.#platform.cancel(this.#refreshTimer);
    if (this.#closed || !this.#persisted || this.#state.get().status === 'locked') return;
    const lead = this.#options.refreshLeadMs ?? 60_000;
    const jitter = Math.random() * (this.#options.refreshJitterMs ?? 10_000);
    const due =
      delayMs ?? Math.max(0, this.#persisted.accessTokenExpiresAt - lead - jitter - this.#platform.now());
    this.#refreshTimer = this.#platform.schedule(() => void this.refresh().catch(() => undefined), due);
  }

  async #onWake(): Promise<void> {
    const persisted = this.#persisted;
    if (!persisted || this.#closed || this.#state.get().status === 'locked') return;
    const lead = this.#options.refreshLeadMs ?? 60_000;
    if (
      persisted.accessTokenExpiresAt - this.#platform.now() < lead ||
      this.#state.get().status === 'offline'
    ) {
      await this.refresh().catch(() => undefined);
    }
  }

  // --- idle ---------------------------------------------------------------------------

  #armIdleTimer(): void {
    const timeoutMs = this.#options.idle?.timeoutMs;
    this.#platform.cancel(this.#idleTimer);
    if (timeoutMs === undefined || this.#closed || !this.#persisted) return;
    const remaining = this.#lastActivity + timeoutMs - this.#platform.now();
    this.#idleTimer = this.#platform.schedule(
      () => {
        if (this.#lastActivity + timeoutMs <= this.#platform.now()) void this.#idleOut();
        else this.#armIdleTimer();
      },
      Math.max(0, remaining),
    );
  }

  /**
   * Ends the session here and in every tab first, then tells the server: the server's
   * `session.revoked` (reason `logout`) then finds it ended, and the reason stays `idle`.
   */
  async #idleOut(): Promise<void> {
    const accessToken = this.#persisted?.accessToken;
    await this.#end('idle', { broadcast: true });
    await this.#call('/api/auth/session/logout', { method: 'POST', accessToken }).catch(() => undefined);
  }

  // --- state ----------------------------------------------------------------------------

  async #apply(grant: TokenResponse, event: SessionEvent): Promise<void> {
    const now = this.#platform.now();
    const persisted: Persisted = {
      session: grant.session,
      user: { id: grant.session.user_id },
      device: grant.device,
      accessTokenExpiresAt: now + grant.expires_in * 1000,
      obtainedAt: now,
      ...(this.#transport === 'bearer'
        ? { accessToken: grant.access_token, refreshToken: grant.refresh_token }
        : {}),
    };
    if (!persisted.user.id && grant.session)
      persisted.user = { id: (grant.session as { user_id?: string }).user_id ?? '' };
    // The keychain first: should the app die in between, it holds the newer token.
    if (this.#gate && grant.refresh_token) await this.#gate.save(grant.refresh_token);
    await this.#storage.set(
      this.#keys.session,
      JSON.stringify(this.#gate ? withoutTokens(persisted) : persisted),
    );
    this.#adopt(persisted, event);
    this.#channel?.post({ type: 'grant', persisted, event } satisfies TabMessage);
  }

  #adopt(persisted: Persisted, event: SessionEvent): void {
    this.#persisted = persisted;
    this.#dispatch(event, this.#stateFrom(persisted));
    this.#scheduleRefresh();
    this.#armIdleTimer();
    this.#emit(event === 'signed_in' ? 'signed_in' : 'refreshed', this.#state.get());
  }

  /**
   * Ends the session once: the server's event, another tab's broadcast, the socket's close and
   * the sign-out call's own answer often report the same end, and the first reason stands.
   */
  #end(reason: EndReason, options: { broadcast: boolean }): Promise<void> {
    if (this.#ending) return this.#ending;
    if (!this.#persisted && this.#state.get().status === 'unauthenticated') return Promise.resolve();
    const ending = this.#endNow(reason, options).finally(() => {
      if (this.#ending === ending) this.#ending = undefined;
    });
    this.#ending = ending;
    return ending;
  }

  async #endNow(reason: EndReason, options: { broadcast: boolean }): Promise<void> {
    this.#generation += 1;
    this.#persisted = undefined;
    this.#platform.cancel(this.#refreshTimer);
    this.#platform.cancel(this.#idleTimer);
    await this.#storage.remove(this.#keys.session);
    await this.#gate?.forget().catch(() => undefined);
    this.#dispatch('ended', { ...SIGNED_OUT, reason });
    if (options.broadcast) this.#channel?.post({ type: 'ended', reason } satisfies TabMessage);
    this.#emit('ended', reason);
  }

  /** What a failed call means for the session: the end, a step-up, or nothing. */
  async #onCallFailure(error: unknown): Promise<void> {
    if (!(error instanceof SessionClientError)) return;
    if (error.kind === 'step_up') {
      this.#stepUpRequired({ broadcast: true });
    } else if (error.kind === 'auth' && error.code && SESSION_ENDING_CODES.has(error.code)) {
      await this.#end(reasonFor(error.code), { broadcast: true });
    } else if (error.kind === 'auth' && this.#transport === 'bearer') {
      // The access token was refused (expired, say); the refresh token decides.
      await this.refresh().catch(() => undefined);
    }
  }

  #onTabMessage(message: TabMessage): void {
    if (message.type === 'grant') {
      const event: SessionEvent = !this.#persisted
        ? 'signed_in'
        : message.event === 'stepped_up'
          ? 'stepped_up'
          : 'refreshed';
      if (!this.#persisted) this.#generation += 1;
      this.#adopt(message.persisted, event);
    } else if (message.type === 'ended') {
      void this.#end(message.reason, { broadcast: false });
    } else if (message.type === 'step_up_required') {
      this.#stepUpRequired({ broadcast: false });
    }
  }

  /** The server wants re-authentication: this tab and (unless it heard it from one) all tabs. */
  #stepUpRequired(options: { broadcast: boolean }): void {
    if (this.#state.get().status === 'step_up_required') return;
    this.#dispatch('step_up_needed');
    if (options.broadcast) this.#channel?.post({ type: 'step_up_required' } satisfies TabMessage);
    this.#emit('step_up_required', null);
  }

  #dispatch(event: SessionEvent, next?: SessionState): void {
    const current = this.#state.get();
    const status = nextStatus(current.status, event);
    if (status === undefined) return;
    this.#state.set({ ...(next ?? current), status });
  }

  #stateFrom(persisted: Persisted): SessionState {
    return {
      status: this.#state.get().status,
      session: persisted.session,
      user: persisted.user,
      device: persisted.device,
      accessTokenExpiresAt: persisted.accessTokenExpiresAt,
      reason: null,
    };
  }

  #emit(event: ClientEventName, detail: unknown): void {
    for (const handler of this.#handlers.get(event) ?? []) handler(detail);
  }

  // --- plumbing -------------------------------------------------------------------------

  #call<T>(
    path: string,
    options: { method: 'GET' | 'POST' | 'PUT' | 'DELETE'; body?: unknown; accessToken?: string | undefined },
  ): Promise<T> {
    return callSessiond<T>(this.#fetch, this.#options.baseUrl, path, this.#transport, options);
  }

  readonly #anonymousCall: SessiondCall = (path, options) => this.#call(path, options);

  /** A call as this session: a fresh enough access token first; a demanded step-up or the session's end is acted on. */
  readonly #signedInCall: SessiondCall = async <T>(
    path: string,
    options: { method: 'GET' | 'POST' | 'PUT' | 'DELETE'; body?: unknown },
  ): Promise<T> => {
    await this.ready;
    if (this.#state.get().status === 'locked') {
      throw new SessionClientError('locked', undefined, 'the session is locked: call client.unlock() first');
    }
    const expiresAt = this.#persisted?.accessTokenExpiresAt;
    if (expiresAt !== undefined && expiresAt - this.#platform.now() < 5_000)
      await this.refresh().catch(() => undefined);
    try {
      return await this.#call<T>(path, { ...options, accessToken: this.#persisted?.accessToken });
    } catch (error) {
      if (
        error instanceof SessionClientError &&
        (error.kind === 'step_up' || (error.code !== undefined && SESSION_ENDING_CODES.has(error.code)))
      )
        await this.#onCallFailure(error);
      throw error;
    }
  };

  #webAuthnAdapter(): WebAuthnAdapter {
    this.#webAuthn ??= this.#options.webAuthn ?? browserWebAuthn();
    return this.#webAuthn;
  }

  /** The device as the server should know it: its id with the install's secret (decision 017). */
  async #deviceInput(device: SignInInput['device']): Promise<DeviceInput> {
    const deviceId = await this.#storage.get(this.#keys.device);
    // Without the secret, the id alone is a new device. In cookie mode the secret is an HttpOnly cookie.
    const deviceSecret = deviceId ? await this.#storage.get(this.#deviceSecretKey()) : null;
    return {
      ...device,
      ...(deviceId ? { id: deviceId } : {}),
      ...(deviceSecret ? { secret: deviceSecret } : {}),
    };
  }

  #deviceSecretKey(): string {
    return `${this.#keys.prefix}.device_secret`;
  }

  /** Every way of signing in ends here: the same storage, state, events and broadcast. */
  async #signedIn(grant: TokenResponse): Promise<SessionState> {
    this.#pending = undefined;
    await this.#storage.set(this.#keys.device, grant.device.id);
    if (grant.device.secret) await this.#storage.set(this.#deviceSecretKey(), grant.device.secret);
    this.#generation += 1;
    await this.#apply(grant, 'signed_in');
    return this.#state.get();
  }

  /** A `second_factor_required` answer becomes the typed error; its pending token stays here. */
  #secondFactorRequired(error: unknown, device: SignInInput['device']): unknown {
    if (!(error instanceof SessionClientError) || error.code !== 'second_factor_required') return error;
    const { pending_token: token, factors, expires_in: expiresIn, email_code: mailed } = error.details ?? {};
    if (typeof token !== 'string') return error;
    const expiresInMs = (typeof expiresIn === 'number' ? expiresIn : 0) * 1000;
    // The device is judged, and recorded, only when the second factor passes: it is sent again then.
    this.#pending = { token, expiresAt: this.#platform.now() + expiresInMs, device };
    const known = Array.isArray(factors) ? factors.filter(isSecondFactor) : [];
    const sent = mailed as { sent_to?: unknown; expires_in?: unknown } | undefined;
    return new SecondFactorRequiredError(
      known,
      expiresInMs,
      error.message,
      typeof sent?.sent_to === 'string' && typeof sent.expires_in === 'number'
        ? emailCodeSent({ sent_to: sent.sent_to, expires_in: sent.expires_in })
        : undefined,
    );
  }

  #pendingSignIn(): { token: string; device: SignInInput['device'] } {
    const pending = this.#pending;
    if (!pending || pending.expiresAt <= this.#platform.now()) {
      this.#pending = undefined;
      throw new SessionClientError(
        'request',
        undefined,
        'no sign-in is waiting for a second factor: sign in again',
      );
    }
    return pending;
  }

  async #send(input: string | URL | Request, init: RequestInit): Promise<Response> {
    const auth = transportInit(this.#transport, this.#persisted?.accessToken);
    const headers = new Headers(input instanceof Request ? input.headers : undefined);
    for (const [name, value] of new Headers(init.headers)) headers.set(name, value);
    for (const [name, value] of Object.entries(auth.headers)) {
      if (name !== 'x-sessiond-transport') headers.set(name, value);
    }
    const target =
      input instanceof Request
        ? input.clone()
        : new URL(input, this.#options.apiBaseUrl ?? this.#options.baseUrl);
    try {
      return await this.#fetch(target, {
        ...init,
        headers,
        ...(auth.credentials ? { credentials: auth.credentials } : {}),
      });
    } catch (error) {
      throw new SessionClientError('network', undefined, `request failed: ${String(error)}`);
    }
  }

  async #readPersisted(): Promise<Persisted | undefined> {
    const raw = await this.#storage.get(this.#keys.session);
    if (!raw) return undefined;
    try {
      return JSON.parse(raw) as Persisted;
    } catch {
      return undefined;
    }
  }
}

/** What storage keeps behind the unlock gate, and memory while locked: no token at all. */
function withoutTokens(persisted: Persisted): Persisted {
  const { accessToken: _access, refreshToken: _refresh, ...bare } = persisted;
  return bare;
}

function isSecondFactor(value: unknown): value is SecondFactor {
  return value === 'passkey' || value === 'totp' || value === 'email_code';
}

function isNewer(stored: Persisted, mine: Persisted): boolean {
  if (stored.session.id !== mine.session.id) return false;
  if (stored.refreshToken !== undefined) return stored.refreshToken !== mine.refreshToken;
  return stored.accessTokenExpiresAt > mine.accessTokenExpiresAt;
}

/**
 * The reason to show for a `session.revoked` event about this session, from the server's
 * `detail.reason` (a `SessionEndReason`). A `logout` of this session came from this device, one
 * of its tabs: that is a sign-out, not a revocation.
 */
function revokedReason(serverReason: unknown): EndReason {
  if (serverReason === 'logout') return 'signed_out';
  if (serverReason === 'refresh_token_reused') return 'reused';
  return 'revoked';
}

function reasonFor(code: string): EndReason {
  if (code === 'session_expired') return 'expired';
  if (code === 'refresh_token_reused') return 'reused';
  return 'revoked';
}
