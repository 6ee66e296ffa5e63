import { z } from 'zod';

/** A body or query that must carry no fields at all. */
export const NoFields = z.strictObject({});

import { SessiondError } from '../errors.js';

/**
 * Validates untrusted input against a strict zod schema. Unknown fields are rejected (never
 * silently ignored) so a typo in a client shows up at once.
 */
export function parseInput<T extends z.ZodType>(schema: T, input: unknown, where = 'body'): z.infer<T> {
  const result = schema.safeParse(input ?? {});
  if (result.success) return result.data;
  const issue = result.error.issues[0];
  const path = issue && issue.path.length > 0 ? `${issue.path.join('.')}: ` : '';
  throw new SessiondError('invalid_request', `invalid ${where}: ${path}${issue?.message ?? 'rejected'}`);
}
