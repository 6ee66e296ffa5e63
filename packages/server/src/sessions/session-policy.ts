import type { Config } from '../config.js';

/**
 * Session policy as small functions with documented defaults (STYLE §4). A successor who wants
 * a different rule changes it here and nowhere else.
 */
export interface SessionPolicy {
  /** Inactivity timeout for a session on this device: longer once the user trusts the device. */
  idleTimeoutMs(device: { trusted: boolean }): number;
  /** Absolute lifetime from sign-in; refresh never extends it. */
  readonly lifetimeMs: number;
  /** How long a replaced refresh token still yields its (unused) successor. */
  readonly refreshGraceMs: number;
}

export function sessionPolicyFrom(config: Config): SessionPolicy {
  return {
    idleTimeoutMs: (device) =>
      (device.trusted ? config.trustedIdleTimeoutSeconds : config.idleTimeoutSeconds) * 1000,
    lifetimeMs: config.sessionLifetimeSeconds * 1000,
    refreshGraceMs: config.refreshGraceSeconds * 1000,
  };
}
