import { type FailureKind, SessionClientError } from './errors.js';

export type Transport = 'bearer' | 'cookie';

export interface CallOptions {
  method: 'GET' | 'POST' | 'PUT' | 'DELETE';
  body?: unknown;
  accessToken?: string | undefined;
  /** Send the refresh path's cookie transport headers even without a body. */
  signal?: AbortSignal;
}

/** Headers and credentials for one transport (DESIGN "Transport on the web and on devices"). */
export function transportInit(
  transport: Transport,
  accessToken: string | undefined,
): RequestInit & { headers: Record<string, string> } {
  if (transport === 'cookie') {
    // The tokens ride in httpOnly cookies; the custom header is the anti-CSRF proof.
    return { credentials: 'include', headers: { 'x-sessiond-transport': 'cookie', 'x-sessiond-csrf': '1' } };
  }
  return { headers: accessToken ? { authorization: `Bearer ${accessToken}` } : {} };
}

/** One JSON call to sessiond, with every failure classified. */
export async function callSessiond<T>(
  doFetch: typeof fetch,
  baseURL: string,
  path: string,
  transport: Transport,
  options: CallOptions,
): Promise<T> {
  const init = transportInit(transport, options.accessToken);
  if (options.body !== undefined) init.headers['content-type'] = 'application/json';
  let response: Response;
  try {
    response = await doFetch(new URL(path, baseURL), {
      ...init,
      method: options.method,
      ...(options.body !== undefined ? { body: JSON.stringify(options.body) } : {}),
      ...(options.signal ? { signal: options.signal } : {}),
    });
  } catch (error) {
    throw new SessionClientError('network', undefined, `cannot reach sessiond: ${String(error)}`);
  }
  if (response.ok) return (await response.json()) as T;
  throw await failureFrom(response);
}

async function failureFrom(response: Response): Promise<SessionClientError> {
  let body: { error?: string; message?: string; [field: string]: unknown } = {};
  try {
    const parsed: unknown = await response.json();
    if (typeof parsed === 'object' && parsed !== null) body = parsed as typeof body;
  } catch {
    // Not JSON (a proxy's error page): classified by status alone.
  }
  const kind: FailureKind =
    response.status === 429
      ? 'rate_limited'
      : body.error === 'step_up_required'
        ? 'step_up'
        : response.status === 401
          ? 'auth'
          : response.status >= 500
            ? 'server'
            : 'request';
  const retryAfter = Number(response.headers.get('retry-after'));
  const { error: _code, message: _message, ...details } = body;
  return new SessionClientError(
    kind,
    body.error,
    body.message ?? `sessiond answered HTTP ${response.status}`,
    Number.isFinite(retryAfter) && retryAfter > 0 ? retryAfter * 1000 : undefined,
    Object.keys(details).length > 0 ? details : undefined,
  );
}
