import type { Clock } from '../../src/clock.js';

/** A clock tests move by hand. Starts at the real time so tokens look ordinary. */
export class TestClock implements Clock {
  #now: number;

  constructor(start = Date.now()) {
    this.#now = start;
  }

  now(): number {
    return this.#now;
  }

  advance(ms: number): void {
    this.#now += ms;
  }
}
