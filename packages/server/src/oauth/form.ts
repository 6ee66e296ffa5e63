import { OAuthError } from './oauth-error.js';

/**
 * The parameters of an `application/x-www-form-urlencoded` OAuth request. RFC 6749 §3.1:
 * a parameter sent without a value counts as omitted, and none may appear twice.
 */
export function formParameters(body: unknown): Map<string, string> {
  if (!(body instanceof URLSearchParams)) {
    throw new OAuthError('invalid_request', 'the body must be application/x-www-form-urlencoded');
  }
  const parameters = new Map<string, string>();
  for (const [name, value] of body) {
    if (parameters.has(name))
      throw new OAuthError('invalid_request', `parameter ${name} appears more than once`);
    if (value !== '') parameters.set(name, value);
  }
  return parameters;
}

export function required(parameters: Map<string, string>, name: string): string {
  const value = parameters.get(name);
  if (value === undefined) throw new OAuthError('invalid_request', `missing parameter ${name}`);
  return value;
}
