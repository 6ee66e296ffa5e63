import { ERROR_STATUS, type ErrorCode } from '@sessiond/protocol';

/**
 * The one error type services throw. Its `code` is the stable wire code; the status comes from
 * the shared table in @sessiond/protocol so server and clients cannot disagree.
 */
export class SessiondError extends Error {
  override readonly name = 'SessiondError';
  readonly code: ErrorCode;
  readonly status: number;
  /** Extra response headers, e.g. `Retry-After` or `WWW-Authenticate`. */
  readonly headers: Readonly<Record<string, string>>;

  constructor(code: ErrorCode, message: string, options: { headers?: Record<string, string> } = {}) {
    super(message);
    this.code = code;
    this.status = ERROR_STATUS[code];
    this.headers = options.headers ?? {};
  }
}

export function isSessiondError(error: unknown): error is SessiondError {
  return error instanceof SessiondError;
}
