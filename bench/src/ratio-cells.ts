import type { RatioCheck } from './comparisons.js';

// The table cells for same-run ratios and their goals, shared by both tables of the report.

export function verdict(met: boolean | null): string {
  return met === null ? 'n/a' : met ? '✅ met' : '❌ missed';
}

/** The check whose ratio the line of target `id` shows: a peer's line, or sessiond's with `shownOn`. */
function checkOnLine(checks: readonly RatioCheck[], id: string): RatioCheck | undefined {
  return checks.find((check) => (check.shownOn === undefined ? check.peerId : check.sessiondId) === id);
}

/** `1.23×` for a peer row, `—` for sessiond's own row or a missing measurement. */
export function ratioCell(checks: readonly RatioCheck[], id: string): string {
  const check = checkOnLine(checks, id);
  return check?.ratio == null ? '—' : `${check.ratio.toFixed(2)}×`;
}

/**
 * `≥ 0.70×: ✅ met` (`≥ 10× row 3: ✅ met` when shown on sessiond's line), `context only` for a
 * ratio without a goal, undefined for no ratio.
 */
export function ratioGoalCell(checks: readonly RatioCheck[], id: string): string | undefined {
  const ratio = checkOnLine(checks, id);
  if (ratio === undefined) return undefined;
  if (ratio.atLeast === undefined) return 'context only';
  const goal = Number.isInteger(ratio.atLeast) ? String(ratio.atLeast) : ratio.atLeast.toFixed(2);
  const against = ratio.shownOn === undefined ? '' : ` ${ratio.shownOn.peerName}`;
  return `≥ ${goal}×${against}: ${verdict(ratio.met)}`;
}
