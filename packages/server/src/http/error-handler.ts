import type { ErrorCode } from '@sessiond/protocol';
import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { SessiondError } from '../errors.js';
import { UserErasedError } from '../store/session-store.js';
import { noteAnsweredError } from './answered-error.js';
import { drainRequest } from './drain-request.js';
import { isStorageFailure, storageUnavailable } from './storage-errors.js';

/** Fastify's own request errors, mapped onto stable wire codes. */
const FASTIFY_CODES: Record<string, ErrorCode> = {
  FST_ERR_CTP_INVALID_MEDIA_TYPE: 'unsupported_media_type',
  FST_ERR_CTP_BODY_TOO_LARGE: 'payload_too_large',
  FST_ERR_CTP_EMPTY_JSON_BODY: 'malformed_json',
  FST_ERR_CTP_INVALID_JSON_BODY: 'malformed_json',
  FST_ERR_CTP_INVALID_CONTENT_LENGTH: 'invalid_request',
  FST_ERR_BAD_URL: 'invalid_request',
};

/**
 * RFC 6750 §3 challenge for bearer failures, and RFC 9470 for step-up, so standard clients
 * know what to do without parsing our JSON.
 */
function challengeFor(
  code: ErrorCode,
  message: string,
  details: Readonly<Record<string, unknown>>,
): string | undefined {
  const description = message.replace(/["\\]/g, '');
  switch (code) {
    case 'token_missing':
      return 'Bearer realm="sessiond"';
    case 'token_invalid':
    case 'token_expired':
    case 'session_expired':
    case 'session_revoked':
      return `Bearer realm="sessiond", error="invalid_token", error_description="${description}"`;
    case 'step_up_required':
      // RFC 9470 §3: the acr values an acceptable step-up leads to (StepUpPolicy), best first.
      return `Bearer realm="sessiond", error="insufficient_user_authentication", error_description="${description}", acr_values="${acrValues(details)}"`;
    default:
      return undefined;
  }
}

function acrValues(details: Readonly<Record<string, unknown>>): string {
  const values = details.acr_values;
  return typeof values === 'string' && /^[a-z0-9 ]+$/.test(values) ? values : 'aal2';
}

export function sendError(reply: FastifyReply, error: SessiondError): FastifyReply {
  // A challenge answers a bearer request; /refresh takes its token in the body and gets none.
  const bearerRequest = reply.request.headers.authorization !== undefined || error.code === 'token_missing';
  const challenge = bearerRequest ? challengeFor(error.code, error.message, error.details) : undefined;
  if (challenge) reply.header('www-authenticate', challenge);
  for (const [name, value] of Object.entries(error.headers)) reply.header(name, value);
  noteAnsweredError(reply.request, error.code);
  return reply.code(error.status).send({ ...error.details, error: error.code, message: error.message });
}

/** Every error leaves as `{error, message}` with a 4xx/5xx; only 5xx are logged as errors. */
export function installErrorHandling(app: FastifyInstance): void {
  app.setErrorHandler(async (error: FastifyError, request, reply) => {
    // A body refused unread (too large, wrong type) is read first, within bounds: answering
    // while the client still sends ends in a connection reset that can swallow the answer.
    if (!request.raw.complete) await drainRequest(request.raw);
    return answerError(error, request, reply);
  });
  app.setNotFoundHandler((request, reply) =>
    sendError(
      reply,
      new SessiondError('not_found', `no route ${request.method} ${request.url.split('?')[0]}`),
    ),
  );
}

function answerError(error: FastifyError, request: FastifyRequest, reply: FastifyReply): FastifyReply {
  if (error instanceof SessiondError) return sendError(reply, error);
  // A sign-in that raced the erasure of its account (decision 036): as if the account never was.
  if (error instanceof UserErasedError)
    return sendError(reply, new SessiondError('invalid_credentials', 'email or password is wrong'));
  if (isStorageFailure(error)) return sendError(reply, storageUnavailable(error, request.log));
  const mapped = error.code ? FASTIFY_CODES[error.code] : undefined;
  if (mapped) return sendError(reply, new SessiondError(mapped, error.message));
  if (error instanceof SyntaxError)
    return sendError(reply, new SessiondError('malformed_json', 'body is not valid JSON'));
  if (error.statusCode && error.statusCode >= 400 && error.statusCode < 500) {
    return sendError(reply, new SessiondError('invalid_request', error.message));
  }
  request.log.error({ err: error }, 'unhandled error');
  return sendError(reply, new SessiondError('internal_error', 'internal error'));
}
