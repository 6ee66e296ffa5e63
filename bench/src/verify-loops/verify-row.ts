import { median } from '../median.js';
import { installedVersion } from '../package-version.js';
import type { ContenderId, LoopOutput } from './loop-result.js';

/** One contender of row 4, with the median of its timed runs. */
export interface VerifyResult {
  id: ContenderId;
  label: string;
  /** What one call does, as shown in the table. */
  call: string;
  warmupCallsPerSecond: number;
  runs: number[];
  callsPerSecond: number | null;
}

/** Row 4 as the report holds it; `failure` says why it is empty. */
export interface VerifyRow {
  results: VerifyResult[];
  verifierStatus: string | null;
  failure: string | null;
}

function describe(id: ContenderId, benchDir: string): { label: string; call: string } {
  switch (id) {
    case 'verify-sessiond':
      return {
        label: `@sessiond/verify ${installedVersion('@sessiond/verify', benchDir)}`,
        call: 'await verifier.verify(token)',
      };
    case 'verify-raw':
      return {
        label: 'raw: node:crypto RS256 verify + JSON.parse',
        call: "crypto.verify('sha256', …) on a cached KeyObject",
      };
    case 'verify-jose':
      return {
        label: `jose ${installedVersion('jose', benchDir)} (WebCrypto)`,
        call: "await jwtVerify(token, key, { issuer, audience, typ: 'at+jwt', algorithms: ['RS256'] })",
      };
  }
}

export function summarizeVerifyLoops(output: LoopOutput, benchDir: string): VerifyRow {
  return {
    results: output.contenders.map((contender) => ({
      ...contender,
      ...describe(contender.id, benchDir),
      callsPerSecond: contender.runs.length > 0 ? median(contender.runs) : null,
    })),
    verifierStatus: output.verifierStatus,
    failure: null,
  };
}

export function failedVerifyRow(failure: string): VerifyRow {
  return { results: [], verifierStatus: null, failure };
}
