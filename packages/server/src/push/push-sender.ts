import webPush from 'web-push';
import { describeFailure } from '../webhooks/webhook-sender.js';
import type { PushMessage } from './push-notifications.js';
import type { PushTarget } from './push-subscription-input.js';
import type { VAPIDKeys } from './vapid-keys.js';

/**
 * How one push request ended. `gone`: 404/410, the subscription has expired or was removed
 * (RFC 8030 §7.3) and is dropped; `rejected`: the push service refused this message for good
 * (400, 401, 403, 413: a retry would be refused the same way); `failed`: 429, 5xx, a network error
 * or a timeout, worth another attempt.
 */
export type PushOutcome =
  | { kind: 'delivered' }
  | { kind: 'gone'; status: number }
  | { kind: 'rejected'; status: number }
  | { kind: 'failed'; error: string; stopped: boolean };

/**
 * One push request (RFC 8030 §5): the payload encrypted for the subscription with aes128gcm
 * (RFC 8291) and signed with VAPID (RFC 8292: `Authorization: vapid t=<ES256 JWT>, k=<key>`, the
 * JWT's `aud` the endpoint's origin), built by web-push and sent with fetch (bounded by a timeout
 * and the shutdown signal, no redirects followed).
 */
export class PushSender {
  constructor(
    private readonly keys: VAPIDKeys,
    private readonly timeoutMs: number,
  ) {}

  async send(target: PushTarget, message: PushMessage, stop: AbortSignal): Promise<PushOutcome> {
    const details = webPush.generateRequestDetails(
      { endpoint: target.endpoint, keys: { p256dh: target.p256dh, auth: target.auth } },
      JSON.stringify(message.payload),
      {
        vapidDetails: {
          subject: this.keys.subject,
          publicKey: this.keys.publicKey,
          privateKey: this.keys.privateKey,
        },
        TTL: message.ttlSeconds,
        urgency: message.urgency,
        topic: message.topic,
        contentEncoding: 'aes128gcm',
      },
    );
    const headers: Record<string, string> = {};
    // fetch sets Content-Length from the body itself.
    for (const [name, value] of Object.entries(details.headers)) {
      if (name.toLowerCase() !== 'content-length') headers[name] = String(value);
    }
    try {
      const response = await fetch(details.endpoint, {
        method: 'POST',
        headers,
        // The aes128gcm record as bytes (Node's fetch takes a Uint8Array view of the Buffer).
        body: details.body ? new Uint8Array(details.body) : undefined,
        redirect: 'manual',
        signal: AbortSignal.any([AbortSignal.timeout(this.timeoutMs), stop]),
      });
      await response.body?.cancel().catch(() => undefined);
      const { status } = response;
      if (status >= 200 && status < 300) return { kind: 'delivered' };
      if (status === 404 || status === 410) return { kind: 'gone', status };
      if ([400, 401, 403, 413].includes(status)) return { kind: 'rejected', status };
      return { kind: 'failed', error: `HTTP ${status}`, stopped: false };
    } catch (error) {
      return { kind: 'failed', error: describeFailure(error), stopped: stop.aborted };
    }
  }
}
