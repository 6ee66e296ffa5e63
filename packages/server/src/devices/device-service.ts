import { randomUUID } from 'node:crypto';
import type { DeviceInput } from '@sessiond/protocol';
import type { EventBus } from '../bus/event-bus.js';
import type { Clock } from '../clock.js';
import { SessiondError } from '../errors.js';
import type { RequestContext } from '../http/request-context.js';
import { constantTimeEqual, randomToken, sha256 } from '../lib/crypto.js';
import type { SessionPolicy } from '../sessions/session-policy.js';
import type { DeviceRecord } from '../store/records.js';
import type { SessionStore } from '../store/session-store.js';
import { parseUserAgent } from './user-agent.js';

/**
 * Device recognition and trust. A device is identified by the stable id its client sends
 * (generated here on first sign-in when it sends none, for the client to keep). It is "new"
 * the first time a given user signs in from it.
 */
/** The device a sign-in comes from, as `recognise` found it. */
export interface RecognisedDevice {
  kind: 'new' | 'bound' | 'recognised';
  device: DeviceRecord;
  isNew: boolean;
  /** The device secret issued by this sign-in, if it issued one (never stored in the clear). */
  secret: string | undefined;
  /** The sign-in named a known device id without its secret and was given a new device. */
  claimRefused: boolean;
}

export class DeviceService {
  constructor(
    private readonly store: SessionStore,
    private readonly clock: Clock,
    private readonly bus: EventBus,
    private readonly policy: SessionPolicy,
  ) {}

  /**
   * Recognises the device of a sign-in (decision 017). A device is the holder of its secret, not
   * whoever names its id: an id of one of the user's devices sent without that secret (copied
   * from an access token's `did`, say) signs in as a new device, with a new id, untrusted. The
   * secret belongs to the install: a device the user is new on takes the secret the client
   * presents (another user's sign-in there issued it), and only a client without one is issued
   * one (`secret`), to keep in secure storage and send with the id from then on.
   */
  async recognise(
    userId: string,
    input: DeviceInput | undefined,
    context: RequestContext,
  ): Promise<RecognisedDevice> {
    // A secret without an id (a browser's device cookie at an OpenID callback) names the user's
    // device that holds it, if any.
    const id = input?.id ?? (input?.secret ? await this.#deviceHolding(userId, input.secret) : undefined);
    const claimed = await this.#sighting(userId, id ?? randomUUID(), input, context);
    if (claimed.kind !== 'claimed') return claimed;
    const fresh = await this.#sighting(userId, randomUUID(), input, context);
    if (fresh.kind === 'claimed') throw new Error('a fresh device id was already taken');
    return { ...fresh, claimRefused: true };
  }

  /**
   * A device the server itself established (the SSO session's, for an app session an
   * authorization code opens, issue 15): no claim to check, nothing new recorded.
   */
  async established(userId: string, deviceId: string): Promise<RecognisedDevice | undefined> {
    const device = await this.store.findDevice(userId, deviceId);
    return device && { kind: 'recognised', device, isNew: false, secret: undefined, claimRefused: false };
  }

  /**
   * What `recognise` would find, without recording the sighting: for judging a sign-in that may
   * not open a session (one waiting for its second factor must not add a device to the account).
   */
  async peek(userId: string, input: DeviceInput | undefined): Promise<{ isNew: boolean; trusted: boolean }> {
    const unknown = { isNew: true, trusted: false };
    const id = input?.id ?? (input?.secret ? await this.#deviceHolding(userId, input.secret) : undefined);
    const device = id === undefined ? undefined : await this.store.findDevice(userId, id);
    if (!device) return unknown;
    // A device from before secrets is bound at its next sign-in, and loses its trust (decision 017).
    if (device.secretHash === null) return { isNew: false, trusted: false };
    const holds = input?.secret !== undefined && constantTimeEqual(device.secretHash, sha256(input.secret));
    return holds ? { isNew: false, trusted: device.trusted } : unknown;
  }

  /** Whether `input` proves to be one of the user's trusted devices (id and its secret). */
  async holdsTrustedDevice(userId: string, input: DeviceInput | undefined): Promise<boolean> {
    if (!input?.id || !input.secret) return false;
    const device = await this.store.findDevice(userId, input.id);
    return (
      device?.trusted === true &&
      device.secretHash !== null &&
      constantTimeEqual(device.secretHash, sha256(input.secret))
    );
  }

  async #deviceHolding(userId: string, secret: string): Promise<string | undefined> {
    const hash = sha256(secret);
    const devices = await this.store.listDevices(userId);
    return devices.find((device) => device.secretHash !== null && constantTimeEqual(device.secretHash, hash))
      ?.id;
  }

  async #sighting(
    userId: string,
    id: string,
    input: DeviceInput | undefined,
    context: RequestContext,
  ): Promise<RecognisedDevice | { kind: 'claimed' }> {
    const presented = input?.secret;
    const secret = presented ?? randomToken('ds_');
    const outcome = await this.store.recordDeviceSighting({
      userId,
      id,
      name: input?.name ?? null,
      platform: input?.platform ?? null,
      ...parseUserAgent(context.userAgent),
      userAgent: context.userAgent,
      ip: context.ip,
      location: context.location ?? null,
      now: this.clock.now(),
      secretHash: sha256(secret),
      presentedSecretHash: presented ? sha256(presented) : null,
    });
    if (outcome.kind === 'claimed') return outcome;
    return {
      kind: outcome.kind,
      device: outcome.device,
      isNew: outcome.kind === 'new',
      secret: outcome.kind === 'recognised' || presented !== undefined ? undefined : secret,
      claimRefused: false,
    };
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
