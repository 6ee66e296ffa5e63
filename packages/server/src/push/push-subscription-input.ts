import { createECDH } from 'node:crypto';
import { z } from 'zod';

/** A browser's PushSubscription as `subscription.toJSON()` gives it (Push API §4.3). */
export const PushSubscriptionBody = z.object({
  endpoint: z.string().min(1).max(2048),
  expirationTime: z.number().nullable().optional(),
  keys: z.strictObject({
    p256dh: z.string().regex(/^[A-Za-z0-9_-]+={0,2}$/),
    auth: z.string().regex(/^[A-Za-z0-9_-]+={0,2}$/),
  }),
});

/** What sessiond keeps of a subscription (sealed): where to push and the keys to encrypt for. */
export interface PushTarget {
  endpoint: string;
  /** The browser's P-256 public key, base64url uncompressed point (RFC 8291 §3.1). */
  p256dh: string;
  /** The 16-byte authentication secret, base64url (RFC 8291 §3.2). */
  auth: string;
}

/**
 * Why a subscription cannot be pushed to, or undefined. The endpoint must be https: (RFC 8030 §8:
 * push messages are only sent over TLS) unless http: is allowed for tests; the key must be a point
 * on P-256 and the secret 16 bytes, or encryption would fail at every push.
 */
export function subscriptionProblem(
  body: z.infer<typeof PushSubscriptionBody>,
  options: { allowHTTP: boolean },
): string | undefined {
  if (!URL.canParse(body.endpoint)) return 'endpoint is not a URL';
  const url = new URL(body.endpoint);
  const schemes = options.allowHTTP ? ['https:', 'http:'] : ['https:'];
  if (!schemes.includes(url.protocol)) return 'endpoint must be an https: URL';
  if (url.username || url.password || url.hash) return 'endpoint must not carry credentials or a fragment';
  const key = Buffer.from(body.keys.p256dh, 'base64url');
  if (key.length !== 65 || key[0] !== 0x04) return 'keys.p256dh is not an uncompressed P-256 point';
  try {
    const ecdh = createECDH('prime256v1');
    ecdh.generateKeys();
    ecdh.computeSecret(key);
  } catch {
    return 'keys.p256dh is not a point on P-256';
  }
  if (Buffer.from(body.keys.auth, 'base64url').length !== 16) return 'keys.auth must be 16 bytes';
  return undefined;
}

/** The subscription as stored: keys re-encoded without padding. */
export function pushTargetOf(body: z.infer<typeof PushSubscriptionBody>): PushTarget {
  return {
    endpoint: body.endpoint,
    p256dh: Buffer.from(body.keys.p256dh, 'base64url').toString('base64url'),
    auth: Buffer.from(body.keys.auth, 'base64url').toString('base64url'),
  };
}
