import { CookieJar } from './cookies.js';

/** One hop of a redirect chain: the URL asked for and what it answered. */
export interface Hop {
  url: string;
  status: number;
  location: string | undefined;
  headers: Headers;
  body: string;
}

/**
 * Just enough of a browser to walk an OpenID sign-in across two origins with fetch: a cookie
 * jar per origin (sessiond's and the provider's), redirects followed by hand so each hop can be
 * seen, and a stop before any URL the test names (the app's redirect target, which nothing serves).
 */
export class RedirectBrowser {
  readonly #jars = new Map<string, CookieJar>();

  jar(origin: string): CookieJar {
    let jar = this.#jars.get(origin);
    if (!jar) {
      jar = new CookieJar();
      this.#jars.set(origin, jar);
    }
    return jar;
  }

  /** GETs `url`, sending and keeping its origin's cookies; no redirect is followed. */
  async get(url: string): Promise<Hop> {
    const target = new URL(url);
    const jar = this.jar(target.origin);
    const cookie = jar.header(target.pathname);
    const response = await fetch(target, { redirect: 'manual', headers: cookie ? { cookie } : {} });
    jar.update(response.headers);
    const location = response.headers.get('location');
    return {
      url,
      status: response.status,
      location: location === null ? undefined : new URL(location, target).href,
      headers: response.headers,
      body: await response.text(),
    };
  }

  /**
   * Follows redirects from `url` until one points at a URL starting with `stopAt` (returned, not
   * fetched) or a response is not a redirect. Every hop is returned.
   */
  async follow(
    url: string,
    options: { stopAt: string[]; maxHops?: number },
  ): Promise<{ hops: Hop[]; final: string }> {
    const hops: Hop[] = [];
    let next = url;
    for (let i = 0; i < (options.maxHops ?? 12); i += 1) {
      if (hops.length > 0 && options.stopAt.some((prefix) => next.startsWith(prefix)))
        return { hops, final: next };
      const hop = await this.get(next);
      hops.push(hop);
      if (hop.location === undefined) return { hops, final: next };
      next = hop.location;
    }
    throw new Error(`too many redirects from ${url}`);
  }
}
