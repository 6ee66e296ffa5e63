import type { EventBus } from '../bus/event-bus.js';
import type { Clock } from '../clock.js';
import { SessiondError } from '../errors.js';
import type { RequestContext } from '../http/request-context.js';
import type { Authenticated } from '../sessions/authenticator.js';
import { eventSubject, userLogEntry } from '../sessions/event-subject.js';
import type { StepUpPolicy } from '../sessions/step-up-policy.js';
import type { NewLogEntry, UserRecord } from '../store/records.js';
import type { SessionStore } from '../store/session-store.js';
import type { TOTPFactor } from './totp-factor.js';

/**
 * Adding, replacing and removing the user's factors. Every change needs a recent
 * re-authentication with an existing factor (decision 016), is written to the audit log with the
 * change itself, and is announced to the user's devices (`factor.changed`).
 */
export class FactorChanges {
  constructor(
    private readonly deps: {
      store: SessionStore;
      clock: Clock;
      bus: EventBus;
      totp: TOTPFactor;
      /** The gate of every factor change: no pending step-up, a recent strong-enough re-authentication. */
      stepUpPolicy: Pick<StepUpPolicy, 'reauthenticatedUser'>;
    },
  ) {}

  /** Starts a TOTP enrolment: the secret to show; the enabled factor (if any) stays until confirmed. */
  async enrolTOTP(auth: Authenticated): Promise<{ secret: string; otpauthURI: string }> {
    const user = await this.#reauthenticatedUser(auth);
    return this.deps.totp.enroll(user);
  }

  async confirmTOTP(auth: Authenticated, code: string, context: RequestContext): Promise<void> {
    const user = await this.#reauthenticatedUser(auth);
    const log = this.#log(auth, context, 'totp_enrolled');
    const { replaced } = await this.deps.totp.confirm(user, code, {
      ...log,
      detail: { replaced: user.totpEnabledAt != null },
    });
    this.#announce(auth, replaced ? 'replaced' : 'enrolled');
  }

  async removeTOTP(auth: Authenticated, context: RequestContext): Promise<void> {
    const user = await this.#reauthenticatedUser(auth);
    if (!(await this.deps.totp.remove(user, this.#log(auth, context, 'totp_removed')))) {
      throw new SessiondError('totp_not_enrolled', 'no TOTP factor is enrolled for this user');
    }
    this.#announce(auth, 'removed');
  }

  #reauthenticatedUser(auth: Authenticated): Promise<UserRecord> {
    return this.deps.stepUpPolicy.reauthenticatedUser(auth);
  }

  #log(auth: Authenticated, context: RequestContext, action: 'totp_enrolled' | 'totp_removed'): NewLogEntry {
    return userLogEntry(auth.session, context, action, this.deps.clock.now());
  }

  #announce(auth: Authenticated, change: 'enrolled' | 'replaced' | 'removed'): void {
    this.deps.bus.publish('factor.changed', {
      ...eventSubject(auth.session, this.deps.clock.now()),
      factor: 'totp',
      change,
    });
  }
}
