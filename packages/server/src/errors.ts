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

  /** For `rate_limited`: when to try again, to the millisecond (the socket says so exactly). */
  readonly retryAfterMs: number | undefined;
  /** Extra fields of the JSON body beside `error` and `message` (e.g. the accepted `factors`). */
  readonly details: Readonly<Record<string, unknown>>;

  constructor(
    code: ErrorCode,
    message: string,
    options: {
      headers?: Record<string, string>;
      retryAfterMs?: number;
      details?: Record<string, unknown>;
    } = {},
  ) {
    super(message);
    this.code = code;
    this.status = ERROR_STATUS[code];
    this.retryAfterMs = options.retryAfterMs;
    this.details = options.details ?? {};
    // HTTP's Retry-After has whole seconds only (RFC 9110 §10.2.3): rounded up.
    this.headers =
      options.retryAfterMs === undefined
        ? (options.headers ?? {})
        : { 'retry-after': String(Math.max(1, Math.ceil(options.retryAfterMs / 1000))), ...options.headers };
  }
}

export function isSessiondError(error: unknown): error is SessiondError {
  return error instanceof SessiondError;
}
