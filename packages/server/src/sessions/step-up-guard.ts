import { SessiondError } from '../errors.js';
import type { Authenticated } from './authenticator.js';

/** Sensitive operations refuse a session flagged for step-up until it re-authenticates. */
export function requireNoPendingStepUp(auth: Authenticated): void {
  if (auth.session.stepUpRequired) {
    throw new SessiondError(
      'step_up_required',
      'this operation needs re-authentication (POST /api/auth/session/step-up)',
    );
  }
}
