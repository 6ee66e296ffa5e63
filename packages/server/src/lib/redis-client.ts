import { Redis, type RedisOptions } from 'ioredis';

/** Cap of the reconnect backoff: a node notices a returning Redis within this long. */
const MAX_RECONNECT_DELAY_MS = 2000;

/**
 * Opens an ioredis connection that fails fast while Redis is away, so a caller falls back (local
 * counters) or drops (remote events) instead of waiting: no offline queue, in-flight commands are
 * rejected when the connection closes rather than resent, and a hung command times out. ioredis
 * reconnects by itself with a capped linear backoff.
 */
export function openRedis(url: string, options: RedisOptions = {}): Redis {
  return new Redis(url, {
    enableOfflineQueue: false,
    autoResendUnfulfilledCommands: false,
    // Rejects the commands in flight at every close (see ioredis' closeHandler).
    maxRetriesPerRequest: 0,
    commandTimeout: 1000,
    connectTimeout: 5000,
    retryStrategy: (attempt) => Math.min(100 * attempt, MAX_RECONNECT_DELAY_MS),
    ...options,
  });
}

/** Closes a connection for good: politely if it is up, at once if not (it may be reconnecting). */
export async function closeRedis(client: Redis): Promise<void> {
  if (client.status === 'end') return;
  if (client.status === 'ready') {
    try {
      await client.quit();
      return;
    } catch {
      // The connection went away meanwhile: disconnect below stops the reconnect loop.
    }
  }
  client.disconnect();
}

/** The URL as it may appear in logs and errors: without its password. */
export function redactRedisURL(url: string): string {
  try {
    const parsed = new URL(url);
    parsed.password = '';
    return parsed.toString();
  } catch {
    return '(unparsable Redis URL)';
  }
}
