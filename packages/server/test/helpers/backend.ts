import type { TokenResponse } from '@sessiond/protocol';
import { type APIResponse, request } from './api.js';

/** The backends every backend suite registers: `app` may assert aal2, `other` may not. */
export const BACKEND = { id: 'app', secret: 'app-backend-secret-0123456789abcdef' } as const;
export const OTHER_BACKEND = { id: 'other', secret: 'other-backend-secret-0123456789abcd' } as const;

export const BACKEND_ENV = {
  SESSIOND_BACKENDS: `${BACKEND.id}:${BACKEND.secret},${OTHER_BACKEND.id}:${OTHER_BACKEND.secret}`,
  SESSIOND_BACKENDS_AAL2: BACKEND.id,
  SESSIOND_CUSTOM_CLAIMS: 'roles,tenant,plan',
} as const;

export function basic(id: string, secret: string): string {
  return `Basic ${Buffer.from(`${id}:${secret}`).toString('base64')}`;
}

/** A call to /api/backend as `as` (default BACKEND). */
export function backendCall<T = Record<string, unknown>>(
  baseURL: string,
  method: string,
  path: string,
  options: {
    body?: Record<string, unknown>;
    as?: { id: string; secret: string };
    headers?: Record<string, string>;
  } = {},
): Promise<APIResponse<T & { error?: string; message?: string }>> {
  const as = options.as ?? BACKEND;
  return request(baseURL, method, path, {
    ...(options.body !== undefined ? { body: options.body } : {}),
    headers: { authorization: basic(as.id, as.secret), ...options.headers },
  });
}

/** `POST /api/backend/sessions`, expecting 200. */
export async function backendSession(
  baseURL: string,
  body: Record<string, unknown>,
  options: { as?: { id: string; secret: string }; headers?: Record<string, string> } = {},
): Promise<TokenResponse> {
  const response = await backendCall<TokenResponse>(baseURL, 'POST', '/api/backend/sessions', {
    body,
    ...options,
  });
  if (response.status !== 200) throw new Error(`backend session failed: ${JSON.stringify(response.body)}`);
  return response.body;
}
