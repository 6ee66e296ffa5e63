/**
 * The sign-in page's Content-Security-Policy (decision 029): nothing but sessiond's own files, no
 * framing, no <base>, forms only to sessiond. Chromium applies `form-action` to the redirects a
 * form's answer makes as well (CSP3 §6.4.1 leaves it open; Chromium blocks them), so a page that
 * may end in the 303 to the app also names that one redirect URI's origin (or private-use scheme).
 */
export function signInPageCSP(redirectTarget?: string): string {
  return [
    "default-src 'none'",
    "script-src 'self'",
    "style-src 'self'",
    "img-src 'self'",
    "connect-src 'self'",
    redirectTarget === undefined ? "form-action 'self'" : `form-action 'self' ${redirectTarget}`,
    "frame-ancestors 'none'",
    "base-uri 'none'",
  ].join('; ');
}

/**
 * The CSP source of an (already validated) redirect URI: its origin for http(s), its scheme for a
 * native app's private-use scheme (RFC 8252 §7.1). The URL parser leaves no `;`, `,` or space in
 * either, so the value cannot add a directive.
 */
export function redirectTargetOf(redirectURI: string): string {
  const url = new URL(redirectURI);
  // CSP's host-source has no IPv6 literals: Chromium drops 'http://[::1]:port' as invalid and then
  // blocks the redirect to a native app's [::1] loopback URI (RFC 8252 §7.3). Its scheme is the
  // narrowest source that still lets the redirect through.
  if (url.hostname.startsWith('[')) return url.protocol;
  return url.protocol === 'https:' || url.protocol === 'http:' ? url.origin : url.protocol;
}
