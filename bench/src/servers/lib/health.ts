import type { IncomingMessage, ServerResponse } from 'node:http';

/** Answers GET /healthz with 200, the same readiness probe the harness uses for sessiond. */
export function answerHealth(req: IncomingMessage, res: ServerResponse): boolean {
  if (req.method !== 'GET' || req.url !== '/healthz') return false;
  res.writeHead(200, { 'content-type': 'text/plain' }).end('ok');
  return true;
}
