import { expectJSON } from '../http-json.js';

// The sessiond calls the set-up needs, per the server's HTTP contract.

export interface Credentials {
  email: string;
  password: string;
}

export interface Tokens {
  access_token: string;
  refresh_token: string;
}

function asTokens(body: unknown): Tokens {
  const tokens = body as Partial<Tokens> | null;
  if (typeof tokens?.access_token !== 'string' || typeof tokens.refresh_token !== 'string') {
    throw new Error(`sessiond answered without tokens: ${JSON.stringify(body)}`);
  }
  return { access_token: tokens.access_token, refresh_token: tokens.refresh_token };
}

export async function signUp(baseURL: string, credentials: Credentials): Promise<void> {
  await expectJSON(`${baseURL}/api/auth/signup`, { method: 'POST', body: credentials }, 201);
}

export async function createSession(baseURL: string, credentials: Credentials): Promise<Tokens> {
  const body = { ...credentials, device: { name: 'autocannon', platform: 'bench' } };
  const response = await expectJSON(`${baseURL}/api/auth/session/create`, { method: 'POST', body }, 200);
  return asTokens(response.body);
}

export async function refreshSession(baseURL: string, refreshToken: string): Promise<Tokens> {
  const body = { refresh_token: refreshToken };
  const response = await expectJSON(`${baseURL}/api/auth/session/refresh`, { method: 'POST', body }, 200);
  return asTokens(response.body);
}

/** A session opened by a registered backend (`POST /api/backend/sessions`, HTTP Basic). */
export async function createBackendSession(
  baseURL: string,
  authorization: string,
  externalId: string,
): Promise<Tokens> {
  const body = { user: { external_id: externalId }, device: { name: 'autocannon', platform: 'bench' } };
  const request = { method: 'POST' as const, body, headers: { authorization } };
  const response = await expectJSON(`${baseURL}/api/backend/sessions`, request, 200);
  return asTokens(response.body);
}
