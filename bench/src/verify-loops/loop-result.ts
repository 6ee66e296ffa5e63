/** The three ways of verifying one access token that row 4 times. */
export type ContenderId = 'verify-sessiond' | 'verify-raw' | 'verify-jose';

/** What the verify-loops child prints, as one JSON line, for the harness. */
export interface LoopOutput {
  contenders: Array<{ id: ContenderId; warmupCallsPerSecond: number; runs: number[] }>;
  /** The verifier's revocation-stream status after the last run: `live` unless it dropped. */
  verifierStatus: string;
}
