import { randomUUID } from 'node:crypto';
import type { DeviceInput } from '@sessiond/protocol';
import type { EventBus } from '../bus/event-bus.js';
import type { Clock } from '../clock.js';
import { SessiondError } from '../errors.js';
import type { RequestContext } from '../http/request-context.js';
import type { SessionPolicy } from '../sessions/session-policy.js';
import type { DeviceRecord } from '../store/records.js';
import type { SessionStore } from '../store/session-store.js';
import { parseUserAgent } from './user-agent.js';

/**
 * Device recognition and trust. A device is identified by the stable id its client sends
 * (generated here on first sign-in when it sends none, for the client to keep). It is "new"
 * the first time a given user signs in from it.
 */
export class DeviceService {
  constructor(
    private readonly store: SessionStore,
    private readonly clock: Clock,
    private readonly bus: EventBus,
    private readonly policy: SessionPolicy,
  ) {}

  async recognise(
    userId: string,
    input: DeviceInput | undefined,
    context: RequestContext,
  ): Promise<{ device: DeviceRecord; isNew: boolean }> {
    return this.store.recordDeviceSighting({
      userId,
      id: input?.id ?? randomUUID(),
      name: input?.name ?? null,
      platform: input?.platform ?? null,
      ...parseUserAgent(context.userAgent),
      userAgent: context.userAgent,
      ip: context.ip,
      now: this.clock.now(),
    });
  }

  list(userId: string): Promise<DeviceRecord[]> {
    return this.store.listDevices(userId);
  }

  async setTrust(
    userId: string,
    deviceId: string,
    trusted: boolean,
    context: RequestContext & { sessionId: string },
  ): Promise<DeviceRecord> {
    const now = this.clock.now();
    const device = await this.store.setDeviceTrust(userId, deviceId, {
      trusted,
      idleTimeoutMs: this.policy.idleTimeoutMs({ trusted }),
      log: {
        action: 'device_trusted',
        success: true,
        userId,
        sessionId: context.sessionId,
        deviceId,
        ip: context.ip,
        userAgent: context.userAgent,
        actor: 'user',
        detail: { trusted },
        createdAt: now,
      },
    });
    if (!device) throw new SessiondError('device_not_found', 'no such device for this user');
    this.bus.publish('device.trusted', {
      user_id: userId,
      session_id: context.sessionId,
      device_id: deviceId,
      trusted,
      at: new Date(now).toISOString(),
    });
    return device;
  }
}
