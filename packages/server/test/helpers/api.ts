import type { TokenResponse } from '@sessiond/protocol';

export interface APIResponse<T = Record<string, unknown>> {
  status: number;
  headers: Headers;
  body: T;
}

type Body = Record<string, unknown> | string | undefined;

/** Real HTTP requests to a test server. `body` objects are sent as JSON, strings as they are. */
export async function request<T = Record<string, unknown>>(
  baseURL: string,
  method: string,
  path: string,
  options: { body?: Body; token?: string; headers?: Record<string, string> } = {},
): Promise<APIResponse<T>> {
  const headers: Record<string, string> = { ...options.headers };
  if (options.token) headers.authorization = `Bearer ${options.token}`;
  let payload: string | undefined;
  if (typeof options.body === 'string') payload = options.body;
  else if (options.body !== undefined) {
    payload = JSON.stringify(options.body);
    headers['content-type'] ??= 'application/json';
  }
  const response = await fetch(new URL(path, baseURL), { method, headers, body: payload });
  const text = await response.text();
  return { status: response.status, headers: response.headers, body: (text ? JSON.parse(text) : {}) as T };
}

export const PASSWORD = 'correct horse battery staple';

let counter = 0;
export function uniqueEmail(): string {
  counter += 1;
  return `user${counter}.${process.pid}.${Date.now()}@example.com`;
}

/** Signs a new user up and signs in; returns the token response. */
export async function signUpAndIn(
  baseURL: string,
  options: { email?: string; device?: Record<string, string>; userAgent?: string } = {},
): Promise<TokenResponse & { email: string }> {
  const email = options.email ?? uniqueEmail();
  const signup = await request(baseURL, 'POST', '/api/auth/signup', { body: { email, password: PASSWORD } });
  if (signup.status !== 201) throw new Error(`signup failed: ${JSON.stringify(signup.body)}`);
  return { ...(await signIn(baseURL, email, options)), email };
}

/**
 * Device secrets as a real client keeps them (one entry per user and device id; emails are unique per test, and a restarted server keeps its devices):
 * `signIn` sends the remembered secret with a device id it was issued for, as the SDK does.
 */
const deviceSecrets = new Map<string, string>();

export async function signIn(
  baseURL: string,
  email: string,
  options: { device?: Record<string, string>; userAgent?: string } = {},
): Promise<TokenResponse> {
  const device = options.device && withRememberedSecret(email, options.device);
  const response = await request<TokenResponse>(baseURL, 'POST', '/api/auth/session/create', {
    body: { email, password: PASSWORD, ...(device ? { device } : {}) },
    headers: options.userAgent ? { 'user-agent': options.userAgent } : {},
  });
  if (response.status !== 200) throw new Error(`sign-in failed: ${JSON.stringify(response.body)}`);
  const issued = response.body.device;
  if (issued.secret) deviceSecrets.set(`${email} ${issued.id}`, issued.secret);
  return response.body;
}

function withRememberedSecret(email: string, device: Record<string, string>): Record<string, string> {
  const remembered = device.id && deviceSecrets.get(`${email} ${device.id}`);
  return remembered && device.secret === undefined ? { ...device, secret: remembered } : device;
}

export function refresh(baseURL: string, refreshToken: string) {
  return request<TokenResponse & { error?: string }>(baseURL, 'POST', '/api/auth/session/refresh', {
    body: { refresh_token: refreshToken },
  });
}
