/**
 * Row 8's three loops: one client refreshed over and over; a new client per cycle (restored
 * from the previous one's storage, refreshed, closed); and the floor, the same refresh
 * requests made with bare `fetch()` and no client at all.
 */
export type HeapVariant = 'one-client' | 'client-per-cycle' | 'bare-fetch';

/** What the heap child prints, as one JSON line, for the harness. */
export interface HeapOutput {
  variant: HeapVariant;
  cycles: number;
  /** process.memoryUsage().heapUsed after sign-in and gc(). */
  beforeBytes: number;
  /** The same after `cycles` cycles and gc() twice: the row's measurement. */
  afterBytes: number;
  /** The same after `cycles` more cycles: what the cycles retain once everything is warm. */
  afterMoreBytes: number;
  /** How much of afterBytes − beforeBytes is V8's code space (compiled code, not data). */
  codeSpaceGrowthBytes: number;
}
