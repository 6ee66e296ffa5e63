import type { IncomingMessage } from 'node:http';

/**
 * How much of a refused request's body is still read before the answer: enough for ordinary
 * uploads that were merely too large (a client sends its whole body before it reads), little
 * enough that a refused body costs no more than an accepted one.
 */
export const DRAIN_LIMITS = Object.freeze({ maxBytes: 8 * 1024 * 1024, maxMs: 5_000 });

/**
 * Reads and discards what is left of a request body, until it ends or a limit is reached.
 * Answering while the client still sends and then closing makes the kernel reset the
 * connection, and a reset can discard the answer before the client reads it (a 413 turned into
 * ECONNRESET or EPIPE). Resolves true when the body ended (the connection is clean).
 */
export function drainRequest(raw: IncomingMessage, limits = DRAIN_LIMITS): Promise<boolean> {
  if (raw.complete || raw.destroyed) return Promise.resolve(raw.complete);
  return new Promise((resolve) => {
    let drained = 0;
    const onData = (chunk: Buffer): void => {
      drained += chunk.length;
      if (drained > limits.maxBytes) finish(false);
    };
    const onEnd = (): void => finish(true);
    const onClose = (): void => finish(raw.complete);
    const timer = setTimeout(() => finish(false), limits.maxMs);
    function finish(ended: boolean): void {
      clearTimeout(timer);
      raw.off('data', onData).off('end', onEnd).off('close', onClose);
      resolve(ended);
    }
    raw.on('data', onData).once('end', onEnd).once('close', onClose);
    raw.resume();
  });
}
