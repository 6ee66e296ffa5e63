/** Why a token was refused. The same codes appear in @sessiond/protocol's error table. */
export type VerifyErrorCode = 'token_invalid' | 'token_expired' | 'token_revoked' | 'verifier_unavailable';

export class VerifyError extends Error {
  override readonly name = 'VerifyError';
  readonly code: VerifyErrorCode;

  constructor(code: VerifyErrorCode, message: string) {
    super(message);
    this.code = code;
  }
}
