import { Webhook } from 'standardwebhooks';
import type { Clock } from '../clock.js';
import type { WebhookMessage } from './webhook-events.js';

/**
 * How one delivery attempt ended. `error` is short and never holds the body, secret or signature;
 * `stopped`: the attempt was abandoned because the server is stopping, not failed by the endpoint.
 */
export type DeliveryResult = { ok: true } | { ok: false; error: string; stopped: boolean };

/**
 * Sends one message to one endpoint, signed per Standard Webhooks
 * (https://github.com/standard-webhooks/standard-webhooks/blob/main/spec/standard-webhooks.md):
 * `webhook-id`, `webhook-timestamp` (seconds) and `webhook-signature` (`v1,<HMAC-SHA256>` over
 * `id.timestamp.body`). Any 2xx is success; anything else, a redirect included (not followed),
 * a network error or no answer within the timeout is a failure to retry.
 */
export class WebhookSender {
  readonly #signer: Webhook;

  /**
   * `wallClock` stamps `webhook-timestamp`. The receiver checks it against its own clock
   * (5 minutes either way in the reference libraries), so it must be real time.
   */
  constructor(
    secret: string,
    private readonly wallClock: Clock,
    private readonly timeoutMs: number,
  ) {
    this.#signer = new Webhook(secret);
  }

  async send(endpoint: string, message: WebhookMessage, stop: AbortSignal): Promise<DeliveryResult> {
    const now = new Date(this.wallClock.now());
    const headers = {
      'content-type': 'application/json',
      'user-agent': 'sessiond-webhooks',
      'webhook-id': message.id,
      'webhook-timestamp': String(Math.floor(now.getTime() / 1000)),
      'webhook-signature': this.#signer.sign(message.id, now, message.body),
    };
    try {
      const response = await fetch(endpoint, {
        method: 'POST',
        headers,
        body: message.body,
        redirect: 'manual',
        signal: AbortSignal.any([AbortSignal.timeout(this.timeoutMs), stop]),
      });
      // The answer's content does not matter; never buffer whatever an endpoint sends back.
      await response.body?.cancel().catch(() => undefined);
      if (response.status >= 200 && response.status < 300) return { ok: true };
      return { ok: false, error: `HTTP ${response.status}`, stopped: false };
    } catch (error) {
      return { ok: false, error: describeFailure(error), stopped: stop.aborted };
    }
  }
}

/** A network failure in a few words: the timeout, or the system error code (ECONNREFUSED, ...). */
export function describeFailure(error: unknown): string {
  if (error instanceof Error && (error.name === 'TimeoutError' || error.name === 'AbortError')) {
    return error.name === 'TimeoutError' ? 'timeout' : 'aborted';
  }
  const cause = error instanceof Error ? (error.cause as { code?: unknown } | undefined) : undefined;
  if (cause && typeof cause.code === 'string') return cause.code;
  return error instanceof Error ? error.message.slice(0, 200) : 'delivery failed';
}

/** An endpoint as logs may show it: no credentials, query or fragment, which can hold tokens. */
export function endpointLabel(endpoint: string): string {
  if (!URL.canParse(endpoint)) return '[invalid URL]';
  const url = new URL(endpoint);
  return `${url.origin}${url.pathname}`;
}
