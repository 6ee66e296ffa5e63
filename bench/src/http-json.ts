// Set-up requests (sign-up, sign-in, minting tokens) made before the measured runs. They are
// few, so plain fetch with a timeout is enough; the load itself is autocannon's job.

export interface JSONResponse {
  status: number;
  body: unknown;
  headers: Headers;
}

export interface JSONRequest {
  method: 'GET' | 'POST';
  body?: unknown;
  headers?: Record<string, string>;
}

// Generous: a session create runs argon2id, and the server may still be busy after a run.
const SETUP_TIMEOUT_MS = 30_000;

export async function requestJSON(url: string, request: JSONRequest): Promise<JSONResponse> {
  const response = await fetch(url, {
    method: request.method,
    headers: {
      ...(request.body === undefined ? {} : { 'content-type': 'application/json' }),
      ...request.headers,
    },
    body: request.body === undefined ? undefined : JSON.stringify(request.body),
    signal: AbortSignal.timeout(SETUP_TIMEOUT_MS),
  });
  const text = await response.text();
  let body: unknown = text;
  try {
    body = JSON.parse(text);
  } catch {
    // Not JSON: keep the text so the error message shows what came back.
  }
  return { status: response.status, body, headers: response.headers };
}

/** Like requestJSON, but throws unless the status is the expected one. */
export async function expectJSON(url: string, request: JSONRequest, status: number): Promise<JSONResponse> {
  const response = await requestJSON(url, request);
  if (response.status !== status) {
    throw new Error(
      `${request.method} ${url} answered ${response.status}, expected ${status}: ${JSON.stringify(response.body)}`,
    );
  }
  return response;
}

/** The `name=value` part of the first Set-Cookie header whose cookie name is `name`. */
export function cookieFrom(headers: Headers, name: string): string {
  for (const setCookie of headers.getSetCookie()) {
    const pair = setCookie.split(';', 1)[0] ?? '';
    if (pair.startsWith(`${name}=`)) return pair;
  }
  throw new Error(`no ${name} cookie in the response`);
}
