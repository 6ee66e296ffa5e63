import type { Platform } from '../../src/platform.js';

/** A platform whose clock and timers the test moves by hand. */
export class ManualPlatform implements Platform {
  #now: number;
  #timers = new Map<number, { at: number; callback: () => void }>();
  #next = 1;
  #lock: Promise<unknown> = Promise.resolve();

  constructor(start = Date.now()) {
    this.#now = start;
  }

  now(): number {
    return this.#now;
  }

  sleep(ms: number): Promise<void> {
    return new Promise((resolve) => this.schedule(resolve, ms));
  }

  schedule(callback: () => void, ms: number): unknown {
    const id = this.#next++;
    this.#timers.set(id, { at: this.#now + ms, callback });
    return id;
  }

  cancel(handle: unknown): void {
    this.#timers.delete(handle as number);
  }

  withLock<T>(_name: string, work: () => Promise<T>): Promise<T> {
    const run = this.#lock.then(work, work);
    this.#lock = run.catch(() => undefined);
    return run;
  }

  channel(): undefined {
    return undefined;
  }

  onWake(): () => void {
    return () => {};
  }

  onActivity(): () => void {
    return () => {};
  }

  /** Moves time forward, firing due timers in order. */
  advance(ms: number): void {
    const until = this.#now + ms;
    for (;;) {
      const due = [...this.#timers.entries()]
        .filter(([, t]) => t.at <= until)
        .sort((a, b) => a[1].at - b[1].at)[0];
      if (!due) break;
      this.#timers.delete(due[0]);
      this.#now = Math.max(this.#now, due[1].at);
      due[1].callback();
    }
    this.#now = until;
  }
}
