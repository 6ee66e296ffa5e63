import type { AccessTokenClaims } from '@sessiond/protocol';
import { authorize } from './authorize.js';
import type { Verifier } from './verifier.js';

/** The parts of Express's request and response this middleware uses (no dependency on express). */
interface RequestLike {
  headers: { authorization?: string | undefined };
  sessiond?: AccessTokenClaims;
}
interface ResponseLike {
  status(code: number): ResponseLike;
  set(name: string, value: string): ResponseLike;
  json(body: unknown): unknown;
}

/**
 * Express middleware: refuses requests without a valid, unrevoked sessiond access token and
 * puts its claims on `req.sessiond`.
 *
 *   app.use('/api', sessiondMiddleware(verifier));
 */
export function sessiondMiddleware(verifier: Verifier) {
  return (request: RequestLike, response: ResponseLike, next: (error?: unknown) => void): void => {
    authorize(verifier, request.headers.authorization).then((result) => {
      if (result.ok) {
        request.sessiond = result.claims;
        next();
        return;
      }
      response.status(result.status).set('www-authenticate', result.challenge).json(result.body);
    }, next);
  };
}
