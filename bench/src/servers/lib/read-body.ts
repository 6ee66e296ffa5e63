import type { IncomingMessage } from 'node:http';

/**
 * Reads a whole request body and parses it as JSON; bodies in this benchmark are a few
 * hundred bytes. Answers undefined for malformed JSON so a bad request cannot crash the server.
 */
export async function readJSONBody(req: IncomingMessage): Promise<unknown> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  try {
    return JSON.parse(Buffer.concat(chunks).toString('utf8'));
  } catch {
    return undefined;
  }
}
