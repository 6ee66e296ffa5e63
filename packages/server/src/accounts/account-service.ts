import { randomUUID } from 'node:crypto';
import type { Clock } from '../clock.js';
import { SessiondError } from '../errors.js';
import type { UserRecord } from '../store/records.js';
import { EmailTakenError, type SessionStore } from '../store/session-store.js';
import { looksLikeEmail, normaliseEmail } from './email.js';
import type { LoginThrottle } from './login-throttle.js';
import { hashPassword, verifyPassword } from './password.js';

/** Accounts: sign-up and the credential check behind every sign-in and step-up. */
export class AccountService {
  /** Verified against when the email is unknown, so both answers take the same time. */
  #decoyHash: Promise<string> | undefined;

  constructor(
    private readonly store: SessionStore,
    private readonly clock: Clock,
    private readonly throttle: LoginThrottle,
    private readonly policy: { passwordMinLength: number },
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
   * Checks credentials under the sign-in throttle. Unknown email and wrong password give the
   * same error after the same work; callers log the failure.
   */
  async checkCredentials(input: { email: string; password: string; ip: string }): Promise<CredentialCheck> {
    const email = normaliseEmail(input.email);
    await this.throttle.admitIP(input.ip);
    await this.throttle.admitAccount(email);
    const user = await this.store.findUserByEmail(email);
    const valid = await verifyPassword(user?.passwordHash ?? (await this.#decoy()), input.password);
    if (user && valid) {
      await this.throttle.recordSuccess(email);
      return { ok: true, user };
    }
    await this.throttle.recordFailure(email);
    return { ok: false, user };
  }

  /**
   * Runs a second-factor check (a TOTP code) under the sign-in throttle: guesses count as
   * failed attempts of the account, so six digits cannot be brute-forced.
   */
  async checkUnderThrottle(user: UserRecord, ip: string, check: () => Promise<boolean>): Promise<boolean> {
    await this.throttle.admitIP(ip);
    await this.throttle.admitAccount(user.email);
    const ok = await check();
    if (ok) await this.throttle.recordSuccess(user.email);
    else await this.throttle.recordFailure(user.email);
    return ok;
  }

  /** Re-checks the password of a signed-in user (step-up); same throttle as sign-in. */
  async confirmPassword(user: UserRecord, password: string, ip: string): Promise<boolean> {
    const result = await this.checkCredentials({ email: user.email, password, ip });
    return result.ok;
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

export type CredentialCheck = { ok: true; user: UserRecord } | { ok: false; user: UserRecord | undefined };
