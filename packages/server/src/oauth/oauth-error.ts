import type { OAuthErrorCode } from '@sessiond/protocol';

/** An RFC 6749 §5.2 error; the OAuth routes answer `{error, error_description}` with `status`. */
export class OAuthError extends Error {
  override readonly name = 'OAuthError';

  constructor(
    readonly code: OAuthErrorCode,
    message: string,
    readonly status = code === 'invalid_client' ? 401 : 400,
  ) {
    super(message);
  }
}
