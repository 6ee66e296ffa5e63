import { isLoopbackURL } from './oidc-config.js';

/**
 * Where an OpenID sign-in may send the browser back to (no open redirect: OAuth 2.0 Security BCP,
 * RFC 9700 §4.11). An entry matches a target with the same scheme and host, and:
 * - an entry with path `/` and no query (an origin): any path and query on that origin;
 * - any other entry: that path exactly (any query);
 * - a loopback http entry without a port (`http://127.0.0.1/callback`): that path on any port,
 *   as a native app's local server picks its port when it starts (RFC 8252 §7.3);
 * - a private-use scheme entry (`com.example.app:/oauth`): that scheme and path (RFC 8252 §7.1).
 * Paths are compared after the URL parser has resolved `..` and percent-encoding, so
 * `/ok/../admin` is `/admin`. Targets with credentials or a fragment are refused.
 */
export class RedirectAllowList {
  readonly #entries: readonly URL[];

  /** `entries` from SESSIOND_OIDC_REDIRECTS; empty: the issuer's origin only. */
  constructor(entries: readonly string[], issuer: string) {
    const list = entries.length > 0 ? entries : [`${new URL(issuer).origin}/`];
    this.#entries = list.map((entry) => new URL(entry));
  }

  /** The target as it will be redirected to, or undefined if it is not allowed. */
  check(target: string): URL | undefined {
    if (!URL.canParse(target)) return undefined;
    const url = new URL(target);
    if (url.username || url.password || url.hash) return undefined;
    return this.#entries.some((entry) => matches(entry, url)) ? url : undefined;
  }
}

function matches(entry: URL, target: URL): boolean {
  if (entry.protocol !== target.protocol) return false;
  const web = entry.protocol === 'http:' || entry.protocol === 'https:';
  if (!web) return entry.pathname === target.pathname && entry.host === target.host;
  if (entry.hostname !== target.hostname) return false;
  const loopback = entry.protocol === 'http:' && isLoopbackURL(entry) && entry.port === '';
  if (!loopback && entry.port !== target.port) return false;
  const originWide = entry.pathname === '/' && entry.search === '' && !loopback;
  return originWide || entry.pathname === target.pathname;
}
