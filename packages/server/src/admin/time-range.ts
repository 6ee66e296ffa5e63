import { SessiondError } from '../errors.js';
import type { TimeRange } from './admin-store.js';

export const DAY_MS = 86_400_000;

/** How long an analytics range may be, and how long it is when the request does not say. */
export interface RangeBounds {
  defaultDays: number;
  maxDays: number;
}

/**
 * A time range from optional bounds in epoch ms: `to` defaults to now, `from` to `defaultDays`
 * before `to`. Refused unless `from < to` and it spans at most `maxDays`: that bound is what
 * keeps an analytics query's cost bounded however long the log grows.
 */
export function resolveRange(
  input: { from?: number | undefined; to?: number | undefined },
  now: number,
  bounds: RangeBounds,
): TimeRange {
  const to = input.to ?? now;
  const from = input.from ?? to - bounds.defaultDays * DAY_MS;
  if (from >= to) throw new SessiondError('invalid_request', 'invalid query: from must be before to');
  if (to - from > bounds.maxDays * DAY_MS) {
    throw new SessiondError(
      'invalid_request',
      `invalid query: the range spans more than ${bounds.maxDays} days`,
    );
  }
  return { from, to };
}

/**
 * A range of whole UTC days, both ends included, from optional `YYYY-MM-DD` bounds: `to` defaults
 * to today, `from` to `defaultDays` days ending at `to`. Days are counted since the epoch.
 */
export function resolveDays(
  input: { from?: string | undefined; to?: string | undefined },
  now: number,
  bounds: RangeBounds,
): { fromDay: number; toDay: number } {
  const toDay = input.to === undefined ? Math.floor(now / DAY_MS) : Date.parse(input.to) / DAY_MS;
  const fromDay = input.from === undefined ? toDay - bounds.defaultDays + 1 : Date.parse(input.from) / DAY_MS;
  if (fromDay > toDay) throw new SessiondError('invalid_request', 'invalid query: from must not be after to');
  if (toDay - fromDay + 1 > bounds.maxDays) {
    throw new SessiondError(
      'invalid_request',
      `invalid query: the range spans more than ${bounds.maxDays} days`,
    );
  }
  return { fromDay, toDay };
}

export function dayString(day: number): string {
  return new Date(day * DAY_MS).toISOString().slice(0, 10);
}
