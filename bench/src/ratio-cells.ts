import type { RatioCheck } from './comparisons.js';

// The table cells for same-run ratios and their goals, shared by both tables of the report.

export function verdict(met: boolean | null): string {
  return met === null ? 'n/a' : met ? '✅ met' : '❌ missed';
}

/** `1.23×` for a peer row, `—` for sessiond's own row or a missing measurement. */
export function ratioCell(checks: readonly RatioCheck[], id: string): string {
  const check = checks.find((ratio) => ratio.peerId === id);
  return check?.ratio == null ? '—' : `${check.ratio.toFixed(2)}×`;
}

/** `≥ 0.70×: ✅ met`, `context only` for a ratio without a goal, undefined for no ratio. */
export function ratioGoalCell(checks: readonly RatioCheck[], id: string): string | undefined {
  const ratio = checks.find((check) => check.peerId === id);
  if (ratio === undefined) return undefined;
  if (ratio.atLeast === undefined) return 'context only';
  const goal = Number.isInteger(ratio.atLeast) ? String(ratio.atLeast) : ratio.atLeast.toFixed(2);
  return `≥ ${goal}×: ${verdict(ratio.met)}`;
}
