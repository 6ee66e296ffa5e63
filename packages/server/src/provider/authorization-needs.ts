import type { AssuranceLevel } from '@sessiond/protocol';
import type { SessionRecord } from '../store/records.js';
import type { AuthorizationRequest } from './authorization-request.js';

/**
 * What the sign-in page must get from the user before the request can be answered: a fresh
 * authentication (a sign-in, or a step-up, which renews auth_time), and the assurance level the
 * SSO session must reach (aal2: a passkey or TOTP step-up).
 */
export interface AuthorizationNeeds {
  /** No usable SSO session: sign in. */
  signIn: boolean;
  /** prompt=login, or max_age exceeded: the user authenticates again (sign-in or step-up). */
  freshLoginRequired: boolean;
  /** The level the SSO session must be at. */
  acr: AssuranceLevel;
  /** The SSO session was flagged for a step-up (a suspicious sign-in, decision 026). */
  stepUpRequired: boolean;
}

/** The needs a request leaves unmet by `sso` at `now`; `satisfied` when nothing is left. */
export function authorizationNeeds(
  request: AuthorizationRequest,
  sso: SessionRecord | undefined,
  now: number,
): { satisfied: boolean; needs: AuthorizationNeeds } {
  const acr = request.acr ?? 'aal1';
  if (!sso) {
    const needs = { signIn: true, freshLoginRequired: false, acr, stepUpRequired: false };
    return { satisfied: false, needs };
  }
  const tooOld = request.maxAge !== undefined && now - sso.authTime > request.maxAge * 1000;
  // prompt=login: an authentication from before this request does not count (OpenID Core §3.1.2.1).
  const notAgain = request.prompt === 'login' && sso.authTime < request.receivedAt;
  const needs: AuthorizationNeeds = {
    signIn: false,
    freshLoginRequired: tooOld || notAgain,
    acr,
    stepUpRequired: sso.stepUpRequired,
  };
  const levelMet = acr === 'aal1' || sso.acr === 'aal2';
  return { satisfied: !needs.freshLoginRequired && levelMet && !sso.stepUpRequired, needs };
}
