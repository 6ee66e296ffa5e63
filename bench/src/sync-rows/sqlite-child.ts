// ROW 10's storage line, run as its own process (`node --import tsx src/sync-rows/sqlite-child.ts`):
// raw better-sqlite3 on the same disk as sessiond's data dir, WAL and synchronous=FULL as
// sessiond runs it, inserting one row shaped like sessiond's operation log
// (state_operations) per transaction, one after another, for SECONDS. Every COMMIT fsyncs the
// WAL: this is the durable write rate of a writer that commits each operation on its own.
// The only line on stdout is the JSON result (an OpsSample).
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import Database from 'better-sqlite3';
import { percentile } from '../percentile.js';
import type { OpsSample } from './durable-ops.js';

const dataDir = process.env.DATA_DIR;
const seconds = Number(process.env.SECONDS);
const users = Number(process.env.USERS);
if (dataDir === undefined || !(seconds > 0) || !Number.isInteger(users) || users < 1) {
  throw new Error('DATA_DIR, SECONDS and USERS are required');
}

const database = new Database(join(dataDir, 'ops.db'));
database.pragma('journal_mode = WAL');
database.pragma('synchronous = FULL');
database.exec(`CREATE TABLE IF NOT EXISTS state_operations (
  user_id TEXT NOT NULL,
  seq INTEGER NOT NULL,
  namespace TEXT NOT NULL,
  client_op_id TEXT NOT NULL,
  operation TEXT NOT NULL,
  created_at INTEGER NOT NULL,
  PRIMARY KEY (user_id, seq),
  UNIQUE (user_id, client_op_id)
)`);
// Runs share the file: carry on each user's sequence where the last run stopped.
const seqs = Array.from({ length: users }, (_, user) => {
  const row = database
    .prepare('SELECT max(seq) AS seq FROM state_operations WHERE user_id = ?')
    .get(`user-${user}`) as { seq: number | null };
  return row.seq ?? 0;
});
// Outside BEGIN … COMMIT, each INSERT is a transaction of its own.
const insert = database.prepare(
  'INSERT INTO state_operations (user_id, seq, namespace, client_op_id, operation, created_at) VALUES (?, ?, ?, ?, ?, ?)',
);
const operation = JSON.stringify({ op: 'increment', path: ['items', 'sku-1', 'qty'], value: 1 });
const run = `${process.pid}-${Date.now()}`;

const latencies: number[] = [];
const startedAt = performance.now();
const endsAt = startedAt + seconds * 1000;
for (let i = 0; performance.now() < endsAt; i++) {
  const user = i % users;
  const seq = ++seqs[user]!;
  const before = performance.now();
  insert.run(`user-${user}`, seq, 'cart', `${run}-${i}`, operation, Date.now());
  latencies.push(performance.now() - before);
}
const durationSeconds = (performance.now() - startedAt) / 1000;
database.close();

const output: OpsSample = {
  opsPerSecond: latencies.length / durationSeconds,
  p50Ms: percentile(latencies, 50),
  p99Ms: percentile(latencies, 99),
  errors: 0,
  durationSeconds,
};
process.stdout.write(`${JSON.stringify(output)}\n`);
