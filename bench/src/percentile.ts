/**
 * The nearest-rank percentile (the smallest value with at least p % of the values at or below
 * it), so it is always a measured value: p99 of 200 samples is the 198th smallest, p99 of 20
 * is the largest. Throws on an empty list.
 */
export function percentile(values: readonly number[], p: number): number {
  if (values.length === 0) throw new Error('percentile of no values');
  const sorted = [...values].sort((a, b) => a - b);
  const rank = Math.max(1, Math.ceil((p / 100) * sorted.length));
  return sorted[rank - 1]!;
}
