import type { FastifyBaseLogger } from 'fastify';
import { SessiondError } from '../errors.js';

/**
 * SQLite result codes (better-sqlite3's `SqliteError.code`) that mean the disk or file system
 * refused the write: the transaction was rolled back, nothing of it is kept.
 * https://www.sqlite.org/rescode.html
 */
const SQLITE_STORAGE_CODES = /^SQLITE_(FULL|IOERR(_[A-Z_]+)?|CANTOPEN|READONLY(_[A-Z_]+)?|BUSY(_[A-Z_]+)?)$/;

/**
 * PostgreSQL SQLSTATEs that say the server could not take the work, not that the request was
 * wrong: class 08 (connection exception), 53 (insufficient resources: 53100 disk_full, 53200
 * out_of_memory, 53300 too_many_connections), 57P01-57P03 (admin_shutdown, crash_shutdown,
 * cannot_connect_now: a restart), 58 (system error, I/O). https://www.postgresql.org/docs/current/errcodes-appendix.html
 */
const POSTGRES_STORAGE_STATES = /^(08[0-9A-Z]{3}|53[0-9A-Z]{3}|57P0[1-3]|58[0-9A-Z]{3})$/;

/** Node's errno codes for a database that is unreachable or a disk that is full. */
const SYSTEM_STORAGE_CODES = new Set([
  'ENOSPC',
  'EDQUOT',
  'EIO',
  'EROFS',
  'ECONNREFUSED',
  'ECONNRESET',
  'EPIPE',
  'ETIMEDOUT',
  'EHOSTUNREACH',
]);

/** node-postgres reports a lost or unobtainable connection by message only, without a code. */
const PG_CONNECTION_MESSAGES = [
  'Connection terminated',
  'timeout exceeded when trying to connect',
  'Client has encountered a connection error',
  'Connection ended unexpectedly',
];

function storageFailure(error: unknown, depth: number): boolean {
  if (!(error instanceof Error) || depth > 3) return false;
  const code = (error as { code?: unknown }).code;
  if (typeof code === 'string') {
    if (SQLITE_STORAGE_CODES.test(code) || POSTGRES_STORAGE_STATES.test(code)) return true;
    if (SYSTEM_STORAGE_CODES.has(code)) return true;
  }
  if (PG_CONNECTION_MESSAGES.some((text) => error.message.includes(text))) return true;
  // AggregateError (a connection tried on several addresses) and wrapped causes.
  const inner = error instanceof AggregateError ? error.errors : [error.cause];
  return inner.some((cause) => storageFailure(cause, depth + 1));
}

/**
 * Whether a store failure means "the storage could not take this" (disk full, I/O error,
 * database down or restarting) rather than a bug: the transaction did not commit.
 */
export function isStorageFailure(error: unknown): boolean {
  return storageFailure(error, 0);
}

/**
 * The answer to a storage failure: 503 `storage_unavailable`, so the client knows nothing was
 * acknowledged and may retry (Retry-After: 1). Logged as a warning with the driver's code; the
 * message sent names no path, SQL or credential.
 */
export function storageUnavailable(error: unknown, log: FastifyBaseLogger): SessiondError {
  log.warn({ err: error }, 'storage unavailable: answered 503');
  return new SessiondError(
    'storage_unavailable',
    'storage is unavailable: nothing was saved, try again later',
    {
      headers: { 'retry-after': '1' },
    },
  );
}
