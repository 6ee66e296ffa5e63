import type { JSONObject } from '@sessiond/protocol';
import type { FastifyReply } from 'fastify';

/**
 * Sends an account export as a JSON file download (RFC 6266 `attachment`), never cached: the
 * no-store hook covers every /api/ answer.
 */
export function sendExport(reply: FastifyReply, userId: string, body: JSONObject): FastifyReply {
  // User ids are UUIDs; anything else is reduced to a safe file name.
  const name = `sessiond-export-${userId.replace(/[^A-Za-z0-9-]/g, '_')}.json`;
  return reply
    .header('content-type', 'application/json; charset=utf-8')
    .header('content-disposition', `attachment; filename="${name}"`)
    .send(JSON.stringify(body, null, 2));
}
