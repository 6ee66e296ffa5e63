import type { ChaosDatabase } from './chaos-database.js';
import { checkInvariants } from './invariants.js';
import { LoadGenerator, type LoadRecord, type Targets } from './load.js';

/** How long a scenario runs: the short form inside `npm test`, the full one in `npm run chaos`. */
export interface ChaosLength {
  /** Load before the first fault, between faults and after the last. */
  phaseMs: number;
  /** How many times the fault is dealt. */
  faults: number;
  clients: number;
}

export const SHORT: ChaosLength = { phaseMs: 600, faults: 2, clients: 3 };
export const FULL: ChaosLength = { phaseMs: 3_000, faults: 6, clients: 6 };

/** One row of the table. */
export interface ScenarioResult {
  fault: string;
  sent: number;
  acknowledged: number;
  lost: number;
  violations: string[];
  /** Answers the clients saw, retries included ("503 storage_unavailable": 12, ...). */
  answers: Record<string, number>;
}

export interface Scenario {
  readonly name: string;
  run(length: ChaosLength): Promise<ScenarioResult>;
}

export const pause = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * The shape of every scenario: load starts, `fault` is dealt `length.faults` times with load
 * phases around each, the load stops (every request answered or past its deadline), `settle`
 * brings every part back, and the invariants are read from the database.
 */
export async function underLoad(input: {
  name: string;
  length: ChaosLength;
  targets: Targets;
  fault: (round: number) => Promise<void>;
  settle?: () => Promise<void>;
  database: () => ChaosDatabase;
  nodeURLs: () => readonly string[];
  /** Checks of the scenario's own (the disk-full one wants to have seen its 503s). */
  extra?: (record: LoadRecord) => string[];
}): Promise<ScenarioResult> {
  const load = new LoadGenerator(input.targets, { clients: input.length.clients });
  await load.start();
  let record: LoadRecord;
  try {
    await pause(input.length.phaseMs);
    for (let round = 0; round < input.length.faults; round++) {
      await input.fault(round);
      await pause(input.length.phaseMs);
    }
  } finally {
    record = await load.stop();
  }
  await input.settle?.();
  const db = input.database();
  try {
    const report = await checkInvariants(db, record, { nodeURLs: input.nodeURLs() });
    return {
      fault: input.name,
      sent: record.sent,
      acknowledged: record.acknowledged,
      lost: report.lost,
      violations: [...report.violations, ...(input.extra?.(record) ?? [])],
      answers: Object.fromEntries(record.answers),
    };
  } finally {
    await db.close();
  }
}

/** The table `npm run chaos` prints (and the short form, at the end of its file). */
export function formatTable(results: readonly ScenarioResult[]): string {
  const rows = [
    ['fault', 'requests sent', 'acknowledged', 'lost', 'invariant violations'],
    ...results.map((r) => [
      r.fault,
      String(r.sent),
      String(r.acknowledged),
      String(r.lost),
      String(r.violations.length),
    ]),
  ];
  const widths = rows[0]!.map((_cell, column) => Math.max(...rows.map((row) => row[column]!.length)));
  const line = (row: string[]): string =>
    `| ${row.map((cell, column) => (column === 0 ? cell.padEnd(widths[column]!) : cell.padStart(widths[column]!))).join(' | ')} |`;
  return [
    line(rows[0]!),
    `|${widths.map((width) => '-'.repeat(width + 2)).join('|')}|`,
    ...rows.slice(1).map(line),
  ].join('\n');
}
