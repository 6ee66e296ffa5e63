import { type AuthorizeOptions, authorize } from './authorize.js';
import type { CustomClaims, VerifiedClaims, Verifier } from './verifier.js';

/** The parts of Express's request and response this middleware uses (no dependency on express). */
interface RequestLike {
  headers: { authorization?: string | undefined };
  sessiond?: VerifiedClaims<CustomClaims>;
}
interface ResponseLike {
  status(code: number): ResponseLike;
  set(name: string, value: string): ResponseLike;
  json(body: unknown): unknown;
}

/**
 * Express middleware: refuses requests without a valid, unrevoked sessiond access token (401),
 * or whose claims miss what `options.claims` requires (403 `forbidden`), and puts its claims on
 * `req.sessiond`.
 *
 *   app.use('/api', sessiondMiddleware(verifier));
 *   app.use('/api/admin', sessiondMiddleware(verifier, { claims: { roles: 'admin' } }));
 */
export function sessiondMiddleware<C extends CustomClaims = Record<never, never>>(
  verifier: Verifier<C>,
  options: AuthorizeOptions<C> = {},
) {
  return (request: RequestLike, response: ResponseLike, next: (error?: unknown) => void): void => {
    authorize(verifier, request.headers.authorization, options).then((result) => {
      if (result.ok) {
        request.sessiond = result.claims;
        next();
        return;
      }
      response.status(result.status).set('www-authenticate', result.challenge).json(result.body);
    }, next);
  };
}
