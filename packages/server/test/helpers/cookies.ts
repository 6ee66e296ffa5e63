/** One `Set-Cookie` line, parsed as a browser would (RFC 6265 §5.2); attribute names lower-cased. */
export interface SetCookie {
  name: string;
  value: string;
  attributes: Record<string, string | true>;
}

export function parseSetCookie(line: string): SetCookie {
  const [pair = '', ...attributes] = line.split(';').map((part) => part.trim());
  const eq = pair.indexOf('=');
  return {
    name: pair.slice(0, eq),
    value: pair.slice(eq + 1),
    attributes: Object.fromEntries(
      attributes.map((attribute) => {
        const at = attribute.indexOf('=');
        return at < 0
          ? [attribute.toLowerCase(), true]
          : [attribute.slice(0, at).toLowerCase(), attribute.slice(at + 1)];
      }),
    ),
  };
}

/** Every cookie a response sets, by name. */
export function setCookies(headers: Headers): Map<string, SetCookie> {
  return new Map(headers.getSetCookie().map((line) => [parseSetCookie(line).name, parseSetCookie(line)]));
}

/**
 * Just enough of a browser's cookie store for these tests: keeps what responses set, forgets a
 * cookie set with Max-Age=0, and sends a cookie only to paths under its Path (RFC 6265 §5.1.4).
 */
export class CookieJar {
  readonly #cookies = new Map<string, SetCookie>();

  update(headers: Headers): void {
    for (const cookie of setCookies(headers).values()) {
      if (cookie.attributes['max-age'] === '0') this.#cookies.delete(cookie.name);
      else this.#cookies.set(cookie.name, cookie);
    }
  }

  get(name: string): string | undefined {
    return this.#cookies.get(name)?.value;
  }

  /** Overwrites a value, as an attacker replaying a stolen cookie would. */
  put(name: string, value: string, path = '/'): void {
    this.#cookies.set(name, { name, value, attributes: { path } });
  }

  /** The `Cookie` header a browser would send to `path`. */
  header(path: string): string {
    return [...this.#cookies.values()]
      .filter((cookie) => pathMatches(path, String(cookie.attributes.path ?? '/')))
      .map((cookie) => `${cookie.name}=${cookie.value}`)
      .join('; ');
  }
}

function pathMatches(requestPath: string, cookiePath: string): boolean {
  if (requestPath === cookiePath) return true;
  return (
    requestPath.startsWith(cookiePath) && (cookiePath.endsWith('/') || requestPath[cookiePath.length] === '/')
  );
}
