import type { FastifyInstance } from 'fastify';
import { SessiondError } from '../errors.js';

/** A UTF-16 half without its other half: what a JSON `\ud800` escape decodes to. */
const LONE_SURROGATE = /[\uD800-\uDFFF]/u;

/** Every string of a parsed JSON value, keys included, without recursion (depth is the client's). */
function hasLoneSurrogate(value: unknown): boolean {
  const pending: unknown[] = [value];
  while (pending.length > 0) {
    const next = pending.pop();
    if (typeof next === 'string') {
      if (LONE_SURROGATE.test(next)) return true;
    } else if (Array.isArray(next)) {
      pending.push(...next);
    } else if (next !== null && typeof next === 'object') {
      for (const [key, item] of Object.entries(next)) {
        if (LONE_SURROGATE.test(key)) return true;
        pending.push(item);
      }
    }
  }
  return false;
}

/**
 * The JSON body parser: Fastify's own (prototype poisoning refused), fed bytes decoded as strict
 * UTF-8. Fastify's decoder turns invalid bytes into U+FFFD, so a body the client never meant was
 * stored; here it is refused with 400 `invalid_request`, as are lone surrogates (`"\ud800"`),
 * which no UTF-8 text can carry and which storage would keep or mangle.
 */
export function installJsonBody(app: FastifyInstance): void {
  const parseJSON = app.getDefaultJsonParser('error', 'error');
  const utf8 = new TextDecoder('utf-8', { fatal: true });
  app.removeContentTypeParser('application/json');
  app.addContentTypeParser('application/json', { parseAs: 'buffer' }, (request, body, done) => {
    let text: string;
    try {
      text = utf8.decode(body as Buffer);
    } catch {
      done(new SessiondError('invalid_request', 'body is not valid UTF-8'), undefined);
      return;
    }
    parseJSON(request, text, (error, parsed) => {
      if (error) return done(error, undefined);
      if (hasLoneSurrogate(parsed)) {
        return done(new SessiondError('invalid_request', 'body has a lone UTF-16 surrogate'), undefined);
      }
      done(null, parsed);
    });
  });
}
