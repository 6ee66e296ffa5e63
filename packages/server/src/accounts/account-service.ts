import { randomUUID } from 'node:crypto';
import type { Clock } from '../clock.js';
import { SessiondError } from '../errors.js';
import type { UserRecord } from '../store/records.js';
import { EmailTakenError, type SessionStore } from '../store/session-store.js';
import { looksLikeEmail, normaliseEmail } from './email.js';
import type { LoginThrottle } from './login-throttle.js';
import { hashPassword, verifyPassword } from './password.js';
import type { TOTPFactor } from './totp-factor.js';

/** Accounts: sign-up and the credential check behind every sign-in and step-up. */
export class AccountService {
  /** Verified against when the email is unknown, so both answers take the same time. */
  #decoyHash: Promise<string> | undefined;

  constructor(
    private readonly store: SessionStore,
    private readonly clock: Clock,
    private readonly throttle: LoginThrottle,
    private readonly policy: { passwordMinLength: number },
    private readonly totp: TOTPFactor,
  ) {}

  async signUp(input: { email: string; password: string; ip: string }): Promise<UserRecord> {
    const email = normaliseEmail(input.email);
    if (!looksLikeEmail(email)) throw new SessiondError('invalid_request', 'email is not a valid address');
    this.#checkPasswordPolicy(input.password);
    await this.throttle.admitSignUp(input.ip);
    const user: UserRecord = {
      id: randomUUID(),
      email,
      passwordHash: await hashPassword(input.password),
      createdAt: this.clock.now(),
    };
    try {
      await this.store.createUser(user);
    } catch (error) {
      if (error instanceof EmailTakenError)
        throw new SessiondError('email_taken', 'an account with this email exists');
      throw error;
    }
    return user;
  }

  /**
   * Checks credentials under the sign-in throttle (decision 015). Unknown email and wrong
   * password give the same error after the same work; callers log the failure. Past the
   * account's all-IPs ceiling, only a trusted device (`onTrustedDevice`) or a correct TOTP code
   * (`totp`, checked with the password) gets in; anyone else is refused before the password is
   * looked at, so the refusal says nothing about the password.
   */
  async checkCredentials(input: CredentialInput): Promise<CredentialCheck> {
    const email = normaliseEmail(input.email);
    await this.throttle.admitIP(input.ip);
    await this.throttle.admitAccountFromIP(email, input.ip);
    const ceiling = await this.throttle.accountCeiling(email);
    const user = await this.store.findUserByEmail(email);
    if (ceiling && input.totp === undefined && !(user && (await input.onTrustedDevice?.(user)))) {
      throw this.throttle.ceilingReached(ceiling);
    }
    const valid = await verifyPassword(user?.passwordHash ?? (await this.#decoy()), input.password);
    const secondFactor =
      user && valid && input.totp !== undefined ? await this.#totpAccepts(user, input.totp) : false;
    if (user && valid && (input.totp === undefined || secondFactor)) {
      await this.throttle.recordSuccess(email, input.ip);
      return { ok: true, user, secondFactor: secondFactor ? 'totp' : undefined };
    }
    await this.throttle.recordFailure(email, input.ip);
    return { ok: false, user };
  }

  /**
   * Runs a second-factor check (a TOTP step-up) under the sign-in throttle: guesses count as
   * failed attempts of the account, so six digits cannot be brute-forced, from one IP or many.
   */
  async checkUnderThrottle(
    user: UserRecord,
    input: { ip: string; onTrustedDevice?: (user: UserRecord) => Promise<boolean> },
    check: () => Promise<boolean>,
  ): Promise<boolean> {
    // A user without an email (provisioned by a backend or an OpenID provider) counts by id.
    const account = user.email ?? user.id;
    await this.throttle.admitIP(input.ip);
    await this.throttle.admitAccountFromIP(account, input.ip);
    const ceiling = await this.throttle.accountCeiling(account);
    if (ceiling && !(await input.onTrustedDevice?.(user))) throw this.throttle.ceilingReached(ceiling);
    const ok = await check();
    if (ok) await this.throttle.recordSuccess(account, input.ip);
    else await this.throttle.recordFailure(account, input.ip);
    return ok;
  }

  /** Re-checks the password of a signed-in user (step-up); same throttle as sign-in. */
  async confirmPassword(
    user: UserRecord,
    input: { password: string; ip: string; onTrustedDevice?: (user: UserRecord) => Promise<boolean> },
  ): Promise<boolean> {
    // No password to confirm (the user signs in elsewhere): nothing to guess either.
    if (user.email === null || user.passwordHash === null) return false;
    const result = await this.checkCredentials({ email: user.email, ...input });
    return result.ok;
  }

  /** TOTP at sign-in: only for an enabled factor; a code is good once. */
  async #totpAccepts(user: UserRecord, code: string): Promise<boolean> {
    if (user.totpEnabledAt == null) return false;
    return this.totp.accepts(user, code);
  }

  #checkPasswordPolicy(password: string): void {
    if ([...password].length < this.policy.passwordMinLength) {
      throw new SessiondError(
        'weak_password',
        `password must be at least ${this.policy.passwordMinLength} characters`,
      );
    }
    if (password.length > 1024)
      throw new SessiondError('weak_password', 'password must be at most 1024 characters');
  }

  #decoy(): Promise<string> {
    this.#decoyHash ??= hashPassword(randomUUID());
    return this.#decoyHash;
  }
}

export interface CredentialInput {
  email: string;
  password: string;
  ip: string;
  /** A TOTP code sent with the password: both must be right. */
  totp?: string;
  /** Whether the caller is on one of the user's trusted devices (asked only past the ceiling). */
  onTrustedDevice?: (user: UserRecord) => Promise<boolean>;
}

export type CredentialCheck =
  | { ok: true; user: UserRecord; secondFactor: 'totp' | undefined }
  | { ok: false; user: UserRecord | undefined };
