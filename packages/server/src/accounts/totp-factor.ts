import { Secret, TOTP } from 'otpauth';
import type { Clock } from '../clock.js';
import { SessiondError } from '../errors.js';
import type { SecretBox } from '../lib/crypto.js';
import type { NewLogEntry, UserRecord } from '../store/records.js';
import type { SessionStore } from '../store/session-store.js';

const PERIOD_SECONDS = 30;
/** One step either side: a phone clock a little off still works (RFC 6238 §5.2). */
const WINDOW = 1;

/**
 * The TOTP second factor (RFC 6238: SHA-1, 6 digits, 30 s, the parameters every authenticator
 * app supports). The secret is stored sealed under the master secret; a code is accepted once.
 */
export class TOTPFactor {
  constructor(
    private readonly store: SessionStore,
    private readonly clock: Clock,
    private readonly box: SecretBox,
    private readonly issuer: string,
  ) {}

  /**
   * Starts (or restarts) an enrolment: a new secret, to show as a QR code. It is kept as pending:
   * an enabled factor keeps working until the new one is confirmed.
   */
  async enroll(user: UserRecord): Promise<{ secret: string; otpauthURI: string }> {
    const secret = new Secret({ size: 20 });
    await this.store.startTOTPEnrolment(user.id, this.box.seal(secret.base32));
    return { secret: secret.base32, otpauthURI: this.#totp(user, secret).toString() };
  }

  /**
   * Confirms the pending enrolment with a first code from the app; it becomes the factor and
   * `log` is written with it. Returns whether it replaced an enabled factor.
   */
  async confirm(user: UserRecord, code: string, log: NewLogEntry): Promise<{ replaced: boolean }> {
    const pending = user.totpPendingSealed;
    if (!pending) throw new SessiondError('totp_not_enrolled', 'start with POST /api/auth/totp/enroll');
    await this.#accept(user, pending, code);
    const confirmed = await this.store.confirmTOTPEnrolment(user.id, {
      pendingSealed: pending,
      now: this.clock.now(),
      log,
    });
    if (!confirmed)
      throw new SessiondError('totp_not_enrolled', 'a newer enrolment was started; confirm that one');
    return confirmed;
  }

  /** Removes the factor; false if none was enabled. */
  remove(user: UserRecord, log: NewLogEntry): Promise<boolean> {
    return this.store.removeTOTP(user.id, log);
  }

  /** Whether a step-up code is good (and now used); throws totp_not_enrolled without a factor. */
  async accepts(user: UserRecord, code: string): Promise<boolean> {
    if (!user.totpSecretSealed || user.totpEnabledAt == null) {
      throw new SessiondError('totp_not_enrolled', 'no TOTP factor is enrolled for this user');
    }
    return this.#use(user, user.totpSecretSealed, code);
  }

  async #accept(user: UserRecord, sealed: string, code: string): Promise<void> {
    if (!(await this.#use(user, sealed, code))) {
      throw new SessiondError('invalid_credentials', 'the code is wrong or was used already');
    }
  }

  /** Valid for now (± one step) and not used before: then it is used. */
  async #use(user: UserRecord, sealed: string, code: string): Promise<boolean> {
    const totp = this.#totp(user, Secret.fromBase32(this.box.open(sealed)));
    const now = this.clock.now();
    const delta = totp.validate({ token: code, timestamp: now, window: WINDOW });
    if (delta === null) return false;
    return this.store.useTOTPStep(user.id, Math.floor(now / 1000 / PERIOD_SECONDS) + delta);
  }

  #totp(user: UserRecord, secret: Secret): TOTP {
    return new TOTP({
      issuer: this.issuer,
      label: user.email ?? user.id,
      algorithm: 'SHA1',
      digits: 6,
      period: PERIOD_SECONDS,
      secret,
    });
  }
}
