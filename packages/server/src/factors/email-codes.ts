import { createHmac, hkdfSync, randomInt, timingSafeEqual } from 'node:crypto';
import type { CeremonyStore } from '../ceremonies/ceremony-store.js';
import type { Clock } from '../clock.js';
import { SessiondError } from '../errors.js';
import type { RequestContext } from '../http/request-context.js';
import { sha256 } from '../lib/crypto.js';
import type { Mailer } from '../mail/mailer.js';
import type { FixedWindow, RateCounters } from '../ratelimit/rate-counters.js';
import type { UserRecord } from '../store/records.js';
import type { EmailCodeFactor, FactorBinding } from './factor-verifier.js';

/** How long a mailed code works (NIST SP 800-63B §5.1.3.2 wants it short-lived; mail can be slow). */
export const EMAIL_CODE_TTL_MS = 10 * 60_000;
/** Wrong codes per code sent; then it is gone (1 in 200,000 to guess a 6-digit code). */
export const EMAIL_CODE_MAX_ATTEMPTS = 5;
/** Sends per user: one per 30 s (a resend), five per hour (nobody's inbox is flooded). */
const SEND_LIMITS = [
  { name: 'email-code-burst', windowMs: 30_000, max: 1 },
  { name: 'email-code-hour', windowMs: 60 * 60_000, max: 5 },
] as const;

interface EmailCodeData {
  pendingSignInId?: string;
}

/**
 * One-time codes mailed to the user: six digits from crypto.randomInt, kept only as an HMAC
 * under a key derived from the master secret (a copy of the database does not give the codes
 * away: a million candidates would be checked offline in a moment against a plain hash), in a
 * ceremony bound to the session or pending sign-in that asked for it. One live code per binding:
 * a new send replaces the previous one. Codes never reach a log.
 */
export class EmailCodes implements EmailCodeFactor {
  readonly #key: Buffer;

  constructor(
    private readonly deps: {
      ceremonies: CeremonyStore;
      /** Undefined without SESSIOND_SMTP_URL: email codes are unavailable. */
      mailer: Mailer | undefined;
      counters: RateCounters;
      clock: Clock;
      masterSecret: string;
    },
  ) {
    this.#key = Buffer.from(hkdfSync('sha256', deps.masterSecret, 'sessiond', 'email-codes', 32));
  }

  available(user: UserRecord): boolean {
    return this.deps.mailer !== undefined && user.email !== null;
  }

  /** Mails a new code for this binding (the previous one stops working). */
  async send(
    user: UserRecord,
    binding: FactorBinding,
    context: RequestContext,
  ): Promise<{ expiresIn: number; sentTo: string }> {
    const { mailer, ceremonies, clock } = this.deps;
    if (mailer === undefined || user.email === null) {
      throw new SessiondError(
        'factor_unavailable',
        user.email === null ? 'this account has no email address' : 'email codes are not configured here',
      );
    }
    await this.#admitSend(user.id);
    const now = clock.now();
    const id = ceremonyIdOf(user.id, binding);
    const code = String(randomInt(0, 1_000_000)).padStart(6, '0');
    await ceremonies.discard(id);
    await ceremonies.open<EmailCodeData>(
      {
        id,
        purpose: 'email_code',
        userId: user.id,
        sessionId: 'sessionId' in binding ? binding.sessionId : null,
        secretHash: this.#hash(id, code),
        data: 'pendingSignInId' in binding ? { pendingSignInId: binding.pendingSignInId } : {},
        createdAt: now,
        expiresAt: now + EMAIL_CODE_TTL_MS,
      },
      now,
    );
    try {
      await mailer.send({ to: user.email, ...mailFor(code, binding, context) });
    } catch {
      // The cause may name the SMTP server or its answer: it stays out of the reply and the log.
      await ceremonies.discard(id);
      throw new SessiondError('service_unavailable', 'the code could not be mailed; try again later');
    }
    return { expiresIn: EMAIL_CODE_TTL_MS / 1000, sentTo: maskAddress(user.email) };
  }

  async verify(user: UserRecord, code: string, binding: FactorBinding): Promise<boolean> {
    const { ceremonies, clock } = this.deps;
    const id = ceremonyIdOf(user.id, binding);
    const now = clock.now();
    const live = await ceremonies.find<EmailCodeData>(id, 'email_code', now);
    if (!live || !boundTo(live, user, binding)) return false;
    if (!sameHash(live.secretHash, this.#hash(id, code))) {
      await ceremonies.recordFailure(id, EMAIL_CODE_MAX_ATTEMPTS);
      return false;
    }
    // Of two uses of the right code only one gets the row; a resend in between replaced it.
    const used = await ceremonies.consume<EmailCodeData>(id, 'email_code', now);
    return used !== undefined && sameHash(used.secretHash, live.secretHash);
  }

  async #admitSend(userId: string): Promise<void> {
    const now = this.deps.clock.now();
    // The hourly window counts only the sends the burst window let through.
    for (const limit of SEND_LIMITS) {
      const window = await this.deps.counters.hit(`${limit.name}:${userId}`, limit.windowMs, now);
      if (window.count > limit.max) throw tooManySends(window, now);
    }
  }

  #hash(ceremonyId: string, code: string): string {
    return createHmac('sha256', this.#key).update(`${ceremonyId}:${code}`).digest('base64url');
  }
}

/** One ceremony per (user, binding): its id is derived, so a new send finds and replaces the old. */
function ceremonyIdOf(userId: string, binding: FactorBinding): string {
  const bound =
    'sessionId' in binding ? `session:${binding.sessionId}` : `pending:${binding.pendingSignInId}`;
  return `ec_${sha256(`${userId} ${bound}`)}`;
}

function boundTo(
  ceremony: { userId: string | null; sessionId: string | null; data: EmailCodeData },
  user: UserRecord,
  binding: FactorBinding,
): boolean {
  if (ceremony.userId !== user.id) return false;
  return 'sessionId' in binding
    ? ceremony.sessionId === binding.sessionId
    : ceremony.sessionId === null && ceremony.data.pendingSignInId === binding.pendingSignInId;
}

function sameHash(a: string, b: string): boolean {
  const left = Buffer.from(a);
  const right = Buffer.from(b);
  return left.length === right.length && timingSafeEqual(left, right);
}

function tooManySends(window: FixedWindow, now: number): SessiondError {
  return new SessiondError('rate_limited', 'a code was sent recently; wait before asking for another', {
    retryAfterMs: Math.max(1, window.resetAt - now),
  });
}

/** What the mail says: the code, what it is for, from where it was asked, and what to do if not you. */
function mailFor(
  code: string,
  binding: FactorBinding,
  context: RequestContext,
): { subject: string; text: string } {
  const purpose =
    'sessionId' in binding ? 'confirm it is you on a signed-in session (step-up)' : 'finish signing in';
  const from = context.userAgent ? `${context.ip} (${context.userAgent.slice(0, 200)})` : context.ip;
  return {
    subject: 'sessionId' in binding ? 'Your code to confirm it is you' : 'Your code to finish signing in',
    text: [
      `Your code to ${purpose} is ${code}.`,
      '',
      `It works once, for ${EMAIL_CODE_TTL_MS / 60_000} minutes. It was asked for from ${from}.`,
      'If that was not you, do not share the code with anyone: someone may know your password, so change it.',
    ].join('\n'),
  };
}

/** `alice@example.com` -> `a***@example.com`: enough to recognise, not to harvest. */
export function maskAddress(email: string): string {
  const at = email.lastIndexOf('@');
  if (at <= 0) return '***';
  return `${email.slice(0, 1)}***${email.slice(at)}`;
}
