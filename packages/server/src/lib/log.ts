/**
 * Where a component reports trouble; the app's pino logger fits. Details are objects so pino
 * keeps them structured; they never carry a secret (a password, a token, a Redis URL's password).
 */
export interface Log {
  info(details: object, message: string): void;
  warn(details: object, message: string): void;
  error(details: object, message: string): void;
}

/**
 * A URL fit for a log line: the query keeps its keys, every value becomes `[redacted]`. Tokens
 * do not belong in URLs, but a client that puts one there (`/api/sync?access_token=...`) must
 * not get it written to every log the line reaches.
 */
export function redactQueryValues(url: string): string {
  const mark = url.indexOf('?');
  if (mark < 0) return url;
  const query = url
    .slice(mark + 1)
    .split('&')
    .map((pair) => {
      const equals = pair.indexOf('=');
      return equals < 0 ? pair : `${pair.slice(0, equals)}=[redacted]`;
    })
    .join('&');
  return `${url.slice(0, mark)}?${query}`;
}

/**
 * The request fields pino logs (Fastify's default set), with the URL's query values redacted and
 * the address in its stored form (SESSIOND_IP_STORAGE, decision 035).
 */
export function requestLogFields(
  request: {
    method: string;
    url: string;
    headers?: Record<string, string | string[] | undefined>;
    host?: string;
    ip?: string;
    socket?: { remotePort?: number };
  },
  addresses?: { minimise(ip: string): string },
): Record<string, unknown> {
  return {
    method: request.method,
    url: redactQueryValues(request.url),
    version: request.headers?.['accept-version'],
    host: request.host,
    remoteAddress: addresses && request.ip ? addresses.minimise(request.ip) : request.ip,
    remotePort: request.socket?.remotePort,
  };
}
