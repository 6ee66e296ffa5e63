import type { LoadSpec } from '../load-spec.js';

/** Which comparison of the report a target belongs to. */
export type RowId = 'refresh' | 'status' | 'create' | 'backend-create' | 'resource';

/** One thing autocannon measures: a request against one server. */
export interface Target {
  /** Stable key in latest.json, e.g. `sessiond-refresh`. */
  id: string;
  row: RowId;
  /** Who answers, as shown in the table, e.g. `Better Auth 1.7.25 (SQLite default)`. */
  label: string;
  /** What is requested, e.g. `GET /api/auth/get-session`. */
  request: string;
  /** Called before every run, warm-up included, for that run's load (fresh tokens if needed). */
  prepareRun(): Promise<LoadSpec>;
}

/** A started server and the targets it serves; stop() is also called on failure. */
export interface TargetServer {
  targets: Target[];
  stop(): Promise<void>;
}
