import type { FastifyInstance } from 'fastify';
import { OAuthError } from './oauth-error.js';

const UTF8 = new TextDecoder('utf-8', { fatal: true });

/**
 * Decodes an `application/x-www-form-urlencoded` body as strict UTF-8, raw bytes and
 * percent-escapes alike: URLSearchParams would turn invalid UTF-8 into U+FFFD, a value the client
 * never sent (the JSON bodies are held to the same rule, decision 019).
 */
export function parseFormBody(body: Buffer): URLSearchParams {
  let text: string;
  try {
    text = UTF8.decode(body);
  } catch {
    throw new OAuthError('invalid_request', 'the body is not valid UTF-8');
  }
  for (const pair of text.split('&')) {
    try {
      decodeURIComponent(pair.replaceAll('+', ' '));
    } catch {
      throw new OAuthError('invalid_request', 'the body has a percent-escape that is not valid UTF-8');
    }
  }
  return new URLSearchParams(text);
}

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

/**
 * Parses `application/x-www-form-urlencoded` bodies of the routes of `app` (an encapsulated
 * plugin) with parseFormBody; a body that does not decode becomes `refusal(message)`, the error
 * those routes answer in their own shape (RFC 6749 JSON, an HTML page).
 */
export function acceptFormBodies(app: FastifyInstance, refusal: (message: string) => Error): void {
  app.addContentTypeParser(
    'application/x-www-form-urlencoded',
    { parseAs: 'buffer' },
    (_request, body, done) => {
      try {
        done(null, parseFormBody(body as Buffer));
      } catch (error) {
        done(refusal((error as Error).message), undefined);
      }
    },
  );
}
