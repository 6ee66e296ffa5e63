import { z } from 'zod';
import { SSO_CLIENT_ID } from '../provider/client-registry.js';

/**
 * A `client_id` an app names in a request: any registered client but sessiond's own, whose
 * sessions only its sign-in page opens (issue 15). Whether the id is registered is the
 * service's check (`invalid_request`, unknown client_id).
 */
export const AppClientId = z
  .string()
  .min(1)
  .max(100)
  .refine((id) => id !== SSO_CLIENT_ID, `"${SSO_CLIENT_ID}" is sessiond's own client, not an app's`);
