import { randomUUID } from 'node:crypto';
import type { EventPayloads } from '@sessiond/protocol';
import { afterEach, describe, expect, it } from 'vitest';
import { RedisBus } from '../../src/bus/redis-bus.js';
import { closeRedis, openRedis } from '../../src/lib/redis-client.js';
import { testRedisURL } from '../helpers/postgres.js';
import { RedisProcess } from '../helpers/redis-process.js';
import { recordingLog, until } from './helpers.js';

function loginFailed(userId: string): EventPayloads['login.failed'] {
  return { user_id: userId, session_id: null, device_id: null, at: new Date().toISOString(), ip: null };
}

/** Collects the user ids of the `login.failed` events a bus delivers to this node. */
function collect(bus: RedisBus): string[] {
  const seen: string[] = [];
  bus.subscribe('login.failed', (event) => seen.push(event.user_id ?? ''));
  return seen;
}

describe('RedisBus', () => {
  const cleanups: (() => Promise<void>)[] = [];
  afterEach(async () => {
    for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
  });

  /** Two nodes on one Redis, on a channel of this test's own. */
  async function twoNodes(url: string, channel = `test:${randomUUID()}`) {
    const logA = recordingLog();
    const logB = recordingLog();
    const a = await RedisBus.connect({ url, log: logA, channel });
    cleanups.push(() => a.close());
    const b = await RedisBus.connect({ url, log: logB, channel });
    cleanups.push(() => b.close());
    return { a, b, logA, logB, channel };
  }

  /**
   * Returns once `to` has handled everything `from` published so far: Redis delivers a
   * channel's messages to each subscriber in publishing order.
   */
  async function drained(from: RedisBus, to: RedisBus): Promise<void> {
    const marker = `marker-${randomUUID()}`;
    const seen = collect(to);
    from.publish('login.failed', loginFailed(marker));
    await until(() => seen.includes(marker), 'the marker arrives');
  }

  it('delivers an event to the other node once and to its own node once', async () => {
    const { a, b } = await twoNodes(testRedisURL());
    const onA = collect(a);
    const onB = collect(b);
    a.publish('login.failed', loginFailed('u1'));
    // Local delivery is synchronous.
    expect(onA).toEqual(['u1']);
    await until(() => onB.includes('u1'), 'B receives the event');
    // A has now also received its own message back from Redis, and ignored it.
    await drained(b, a);
    expect(onA.filter((id) => id === 'u1')).toEqual(['u1']);
    expect(onB.filter((id) => id === 'u1')).toEqual(['u1']);
    expect(a.connected).toBe(true);
    expect(a.droppedPublishes).toBe(0);
  });

  it('keeps channels apart', async () => {
    const url = testRedisURL();
    const { a } = await twoNodes(url);
    const { b: other } = await twoNodes(url);
    const onOther = collect(other);
    a.publish('login.failed', loginFailed('private'));
    await drained(other, other);
    expect(onOther).not.toContain('private');
  });

  it('logs and ignores messages that are not JSON, malformed or of unknown events', async () => {
    const url = testRedisURL();
    const { b, logB, channel } = await twoNodes(url);
    const onB = collect(b);
    const raw = openRedis(url);
    cleanups.push(() => closeRedis(raw));
    await until(() => raw.status === 'ready', 'a raw client connects');
    await raw.publish(channel, 'not json');
    await raw.publish(channel, JSON.stringify({ node: 'x', name: 'login.failed' }));
    await raw.publish(channel, JSON.stringify({ node: 'x', name: 'no.such.event', payload: {} }));
    await raw.publish(
      channel,
      JSON.stringify({ node: 'x', name: 'login.failed', payload: loginFailed('ok') }),
    );
    await until(() => onB.includes('ok'), 'the valid message arrives');
    expect(onB).toEqual(['ok']);
    expect(logB.lines.filter((line) => line.level === 'warn').map((line) => line.message)).toEqual([
      'ignored a bus message that is not JSON',
      'ignored a malformed bus message',
      'ignored a malformed bus message',
    ]);
  });

  it('keeps a throwing handler from breaking delivery of remote events', async () => {
    const { a, b, logB } = await twoNodes(testRedisURL());
    b.subscribe('login.failed', () => {
      throw new Error('handler bug');
    });
    const onB = collect(b);
    a.publish('login.failed', loginFailed('u2'));
    await until(() => onB.includes('u2'), 'B receives the event');
    expect(logB.lines.some((line) => line.level === 'error' && line.message === 'event handler failed')).toBe(
      true,
    );
  });

  it('fails to connect with a clear error that never shows the password', async () => {
    const unused = await RedisProcess.start();
    await unused.kill();
    const log = recordingLog();
    const url = `redis://sessiond:hunter2@127.0.0.1:${unused.port}`;
    const attempt = RedisBus.connect({ url, log, timeoutMs: 500 });
    await expect(attempt).rejects.toThrow(`cannot reach Redis at redis://sessiond@127.0.0.1:${unused.port}`);
    const error = await attempt.catch((caught: Error) => caught);
    expect(String(error)).not.toContain('hunter2');
    expect(JSON.stringify(log.lines)).not.toContain('hunter2');
  });

  it('survives an outage: local delivery goes on, publishes are dropped, onResume fires on return', async () => {
    const redis = await RedisProcess.start();
    cleanups.push(() => redis.kill());
    const logA = recordingLog();
    const channel = `test:${randomUUID()}`;
    // Built by hand so onResume is registered before the first connection: it must not fire then.
    const a = new RedisBus({ url: redis.url, log: logA, channel });
    cleanups.push(() => a.close());
    let resumesA = 0;
    a.onResume(() => resumesA++);
    const b = await RedisBus.connect({ url: redis.url, log: recordingLog(), channel });
    cleanups.push(() => b.close());
    await until(() => a.connected, 'A connects');
    expect(resumesA).toBe(0);
    const onA = collect(a);
    const onB = collect(b);

    await redis.kill();
    await until(() => !a.connected && !b.connected, 'both nodes notice the outage');
    a.publish('login.failed', loginFailed('during-1'));
    a.publish('login.failed', loginFailed('during-2'));
    expect(onA).toEqual(['during-1', 'during-2']);
    // A publish the connection had already taken when it closed is rejected (and counted) a tick later.
    await until(() => a.droppedPublishes === 2, 'both publishes are counted as dropped');
    const dropWarnings = logA.lines.filter((line) => line.message.startsWith('Redis is unreachable'));
    expect(dropWarnings).toHaveLength(1);

    let resumedB = false;
    const resumedA = new Promise<void>((resolve) => a.onResume(resolve));
    b.onResume(() => {
      resumedB = true;
    });
    await redis.start();
    await resumedA;
    // The handler runs once the bus is fully back, never before.
    expect(a.connected).toBe(true);
    expect(resumesA).toBe(1);
    await until(() => resumedB, 'B resumes');

    a.publish('login.failed', loginFailed('after'));
    await until(() => onB.includes('after'), 'B receives an event published after the outage');
    expect(onB).toEqual(['after']);
    expect(a.droppedPublishes).toBe(2);

    // A second outage is logged (and resumed) again.
    await redis.kill();
    await until(() => !a.connected, 'A notices the second outage');
    a.publish('login.failed', loginFailed('during-3'));
    // `connected` turns false when the subscriber closes; the publisher may notice its own close
    // a moment later, and then rejects the publish instead of refusing it at once.
    await until(() => a.droppedPublishes === 3, 'the third publish is counted as dropped');
    expect(logA.lines.filter((line) => line.message.startsWith('Redis is unreachable'))).toHaveLength(2);
    await redis.start();
    await until(() => resumesA === 2, 'A resumes again');
  });
});
