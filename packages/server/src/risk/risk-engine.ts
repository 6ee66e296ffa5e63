import type { RiskSignal } from './signals.js';
import { networkOf, userAgentFamily } from './signals.js';

export interface RiskPolicy {
  /** Points per signal (negative lowers the risk); signals without a weight count 0. */
  weights: Readonly<Partial<Record<RiskSignal, number>>>;
  /** A score at or above this is suspicious: the session must step up. */
  threshold: number;
  /** Failed logins (account, or IP) within the window that count as a signal. */
  failedLogins: number;
  /** Live sessions of the user, the new one included, above which sign-in is a signal. */
  maxSessions: number;
  /** Distinct networks signing in to one account within the window that count as a signal. */
  velocityNetworks: number;
  /** The look-back of the history signals. */
  windowMs: number;
}

/** An explainable verdict: which signals fired, their points, the total, and the decision. */
export interface RiskVerdict {
  score: number;
  signals: Array<{ signal: RiskSignal; points: number }>;
  suspicious: boolean;
}

/** What the store knows of the user's recent history (SessionStore.riskHistory). */
export interface RiskHistory {
  failedLoginsForAccount: number;
  failedLoginsFromIP: number;
  /** IPs of the account's successful sign-ins within the window. */
  recentLoginIPs: Array<string | null>;
  liveSessions: number;
  refreshTokenReuses: number;
}

/**
 * Turns signals into a verdict. Pure: the callers gather the facts (device, history, the
 * session's first IP and user agent), this decides. Every verdict names its signals so the
 * audit log can say why a session had to step up.
 */
export class RiskEngine {
  constructor(private readonly policy: RiskPolicy) {}

  /** A sign-in with valid credentials, before its session exists. */
  assessSignIn(input: {
    device: { isNew: boolean; trusted: boolean };
    ip: string | null;
    history: RiskHistory;
  }): RiskVerdict {
    const { history, policy } = { history: input.history, policy: this.policy };
    const fired: RiskSignal[] = [];
    if (input.device.isNew) fired.push('new_device');
    if (history.failedLoginsForAccount >= policy.failedLogins) fired.push('failed_logins_account');
    if (history.failedLoginsFromIP >= policy.failedLogins) fired.push('failed_logins_ip');
    if (history.refreshTokenReuses > 0) fired.push('refresh_token_reused');
    if (history.liveSessions + 1 > policy.maxSessions) fired.push('concurrent_sessions');
    const networks = new Set([...history.recentLoginIPs, input.ip].map(networkOf).filter((n) => n !== null));
    if (networks.size >= policy.velocityNetworks) fired.push('signin_velocity');
    // A discount, not a signal: it counts only against another signal (docs/api.md).
    if (fired.length > 0 && input.device.trusted) fired.push('trusted_device');
    return this.#verdict(fired);
  }

  /** A request on an existing session (a refresh): did it move network or change browser? */
  assessSessionUse(input: {
    session: { ip: string | null; userAgent: string | null; trusted: boolean };
    ip: string | null;
    userAgent: string | null;
  }): RiskVerdict {
    const fired: RiskSignal[] = [];
    // Nearly every refresh repeats the last one's IP and user agent: then there is nothing to parse.
    if (input.ip !== input.session.ip) {
      const before = networkOf(input.session.ip);
      const now = networkOf(input.ip);
      if (before !== null && now !== null && before !== now) fired.push('ip_network_changed');
    }
    if (input.userAgent !== input.session.userAgent) {
      const family = userAgentFamily(input.session.userAgent);
      if (family !== null && family !== userAgentFamily(input.userAgent)) fired.push('user_agent_changed');
    }
    if (fired.length > 0 && input.session.trusted) fired.push('trusted_device');
    return this.#verdict(fired);
  }

  #verdict(fired: RiskSignal[]): RiskVerdict {
    const signals = fired.map((signal) => ({ signal, points: this.policy.weights[signal] ?? 0 }));
    const score = signals.reduce((sum, s) => sum + s.points, 0);
    return { score, signals, suspicious: score >= this.policy.threshold };
  }
}
