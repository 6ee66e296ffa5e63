/**
 * The dashboard's Content-Security-Policy (decision 031): its own script, stylesheet and JSON
 * routes only; `data:` images only (none today, SVG is drawn in the DOM); no framing, no <base>,
 * forms only to sessiond.
 */
export const ADMIN_UI_CSP = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self' data:",
  "connect-src 'self'",
  "form-action 'self'",
  "frame-ancestors 'none'",
  "base-uri 'none'",
].join('; ');

/** On every answer under /admin: pages, assets, JSON and the event stream alike. */
export const ADMIN_UI_HEADERS: Readonly<Record<string, string>> = {
  'content-security-policy': ADMIN_UI_CSP,
  'cache-control': 'no-store',
  'x-frame-options': 'DENY',
  'x-content-type-options': 'nosniff',
  'referrer-policy': 'no-referrer',
  'cross-origin-opener-policy': 'same-origin',
  'cross-origin-resource-policy': 'same-origin',
};
