/** RFC 7662 introspection of one token, authenticated as a resource server (client_secret_basic). */
export async function introspect(input: {
  url: string;
  clientId: string;
  clientSecret: string;
  token: string;
  fetch: typeof fetch;
}): Promise<{ active: boolean }> {
  // RFC 6749 §2.3.1: id and secret are form-urlencoded before they are joined and base64-encoded.
  const credentials = Buffer.from(
    `${encodeURIComponent(input.clientId)}:${encodeURIComponent(input.clientSecret)}`,
  ).toString('base64');
  const response = await input.fetch(input.url, {
    method: 'POST',
    headers: {
      authorization: `Basic ${credentials}`,
      'content-type': 'application/x-www-form-urlencoded',
      accept: 'application/json',
    },
    body: new URLSearchParams({ token: input.token, token_type_hint: 'access_token' }),
    signal: AbortSignal.timeout(5_000),
  });
  if (!response.ok) throw new Error(`introspection answered HTTP ${response.status}`);
  const body = (await response.json()) as { active?: unknown };
  return { active: body.active === true };
}
