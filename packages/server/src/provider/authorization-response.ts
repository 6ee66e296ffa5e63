import type { AuthorizationErrorCode } from './authorization-request.js';

/**
 * The redirect back to the client (RFC 6749 §4.1.2, §4.1.2.1), in the query: `code` or `error`
 * with `error_description`, then `state` if the request had one and `iss` always (RFC 9207), so a
 * client talking to several providers can tell which one answered (mix-up attacks).
 */
export function authorizationResponse(
  redirectURI: string,
  issuer: string,
  answer:
    | { code: string; state: string | undefined }
    | { error: AuthorizationErrorCode; description: string; state: string | undefined },
): string {
  const url = new URL(redirectURI);
  if ('code' in answer) {
    url.searchParams.set('code', answer.code);
  } else {
    url.searchParams.set('error', answer.error);
    url.searchParams.set('error_description', answer.description);
  }
  if (answer.state !== undefined) url.searchParams.set('state', answer.state);
  url.searchParams.set('iss', issuer);
  return url.href;
}
