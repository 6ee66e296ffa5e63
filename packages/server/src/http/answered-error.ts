import type { FastifyRequest } from 'fastify';

/** The error code each request was answered with, noted where the error is sent. */
const answered = new WeakMap<FastifyRequest, string>();

/** Notes the `error` code a request is being answered with (JSON API and OAuth shapes alike). */
export function noteAnsweredError(request: FastifyRequest, code: string): void {
  answered.set(request, code);
}

/** The error code this request was answered with, if an error was sent (the refresh failure metric). */
export function answeredErrorCode(request: FastifyRequest): string | undefined {
  return answered.get(request);
}
