import SQLite from 'better-sqlite3';
import { expect, it } from 'vitest';
import { loadConfig } from '../src/config.js';
import { isStorageFailure } from '../src/http/storage-errors.js';
import { testFaultOptions } from '../src/lib/test-fault.js';

// Issue 12: which store failures mean "storage unavailable, nothing kept" (503) and which stay
// bugs (500). The disk-full and PostgreSQL-restart chaos scenarios check the real thing; this
// table pins the rule, the refusals included.
const withCode = (code: string, message = 'failed'): Error => Object.assign(new Error(message), { code });

it('counts disk, I/O and connection failures as storage failures', () => {
  for (const code of [
    'SQLITE_FULL',
    'SQLITE_IOERR',
    'SQLITE_IOERR_WRITE',
    'SQLITE_IOERR_FSYNC',
    'SQLITE_READONLY',
  ]) {
    expect(isStorageFailure(withCode(code)), code).toBe(true);
  }
  for (const state of ['53100', '53300', '57P01', '57P03', '08006', '58030']) {
    expect(isStorageFailure(withCode(state)), state).toBe(true);
  }
  for (const errno of ['ENOSPC', 'ECONNREFUSED', 'ECONNRESET'])
    expect(isStorageFailure(withCode(errno))).toBe(true);
  expect(isStorageFailure(new Error('Connection terminated unexpectedly'))).toBe(true);
  expect(isStorageFailure(new Error('timeout exceeded when trying to connect'))).toBe(true);
  expect(isStorageFailure(new AggregateError([withCode('ECONNREFUSED')]))).toBe(true);
  expect(isStorageFailure(new Error('wrapped', { cause: withCode('SQLITE_FULL') }))).toBe(true);
});

it('leaves constraint violations, bad SQL and plain bugs alone (they stay 500 or their own code)', () => {
  for (const code of [
    'SQLITE_CONSTRAINT_UNIQUE',
    'SQLITE_ERROR',
    '23505',
    '42P01',
    '22P02',
    'ERR_ASSERTION',
  ]) {
    expect(isStorageFailure(withCode(code)), code).toBe(false);
  }
  expect(isStorageFailure(new TypeError("Cannot read properties of undefined (reading 'id')"))).toBe(false);
  expect(isStorageFailure('SQLITE_FULL')).toBe(false);
  expect(isStorageFailure(undefined)).toBe(false);
});

it('reads the code better-sqlite3 really throws', () => {
  const db = new SQLite(':memory:');
  db.exec('CREATE TABLE t (id INTEGER PRIMARY KEY)');
  db.exec('INSERT INTO t VALUES (1)');
  let thrown: unknown;
  try {
    db.exec('INSERT INTO t VALUES (1)');
  } catch (error) {
    thrown = error;
  }
  db.close();
  expect((thrown as { code?: string }).code).toBe('SQLITE_CONSTRAINT_PRIMARYKEY');
  expect(isStorageFailure(thrown)).toBe(false);
});

it('SESSIOND_TEST_FAULT: unset builds nothing; a value it does not know refuses to start', () => {
  expect(loadConfig({}).testFault).toBeUndefined();
  expect(testFaultOptions(undefined)).toEqual({});
  const fault = loadConfig({
    SESSIOND_TEST_FAULT: 'exit-after-commit:refresh:0.1,clock-offset:-1500',
  }).testFault;
  expect(fault).toEqual({
    exitAfterCommit: [{ method: 'rotateRefreshToken', probability: 0.1 }],
    clockOffsetMs: -1500,
  });
  const options = testFaultOptions(fault);
  expect(Math.abs(options.clock!.now() + 1500 - Date.now())).toBeLessThan(1000);
  for (const wrong of [
    'exit-after-commit:refrsh:0.1',
    'exit-after-commit:refresh:2',
    'clock-offset:soon',
    'crash',
  ]) {
    expect(() => loadConfig({ SESSIOND_TEST_FAULT: wrong }), wrong).toThrow(/SESSIOND_TEST_FAULT/);
  }
});
