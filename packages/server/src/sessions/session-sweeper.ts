import type { Clock } from '../clock.js';
import type { SessionStore } from '../store/session-store.js';
import type { SigningKeyRing } from '../tokens/signing-key-ring.js';
import type { SessionEnding } from './session-ending.js';

const BATCH = 500;

/**
 * Background housekeeping: marks timed-out sessions expired (logged, published) even when no
 * client comes back to notice, drops sealed refresh successors once their grace window is
 * over, enforces retention (audit log, ended sessions, idle devices, state operations:
 * decision 034), and reloads signing keys so a key added by `sessiond keys rotate` starts signing.
 */
export class SessionSweeper {
  #timer: NodeJS.Timeout | undefined;
  #running: Promise<void> | undefined;

  constructor(
    private readonly store: SessionStore,
    private readonly clock: Clock,
    private readonly ending: SessionEnding,
    private readonly keys: SigningKeyRing,
    private readonly housekeeping: {
      refreshGraceMs: number;
      /** Deletes what is past its retention, in bounded batches (RetentionSweep). */
      retention: () => Promise<unknown>;
    },
  ) {}

  start(intervalMs: number, onError: (error: unknown) => void): void {
    this.#timer = setInterval(() => {
      this.#running ??= this.sweep()
        .then(() => undefined)
        .catch(onError)
        .finally(() => {
          this.#running = undefined;
        });
    }, intervalMs);
    this.#timer.unref();
  }

  async stop(): Promise<void> {
    clearInterval(this.#timer);
    await this.#running;
  }

  /** One pass; returns how many sessions it expired. */
  async sweep(): Promise<number> {
    // Keys first: the JWKS publish window counts on a reload every interval, whatever else fails.
    await this.keys.reload();
    let expired = 0;
    for (;;) {
      const due = await this.store.listTimedOutSessions(this.clock.now(), BATCH);
      for (const session of due) if (await this.ending.expireIfDue(session)) expired += 1;
      if (due.length < BATCH) break;
    }
    await this.store.forgetExpiredSuccessors(this.clock.now() - this.housekeeping.refreshGraceMs);
    // Last: expiring sessions never waits behind a purge.
    await this.housekeeping.retention();
    return expired;
  }
}
