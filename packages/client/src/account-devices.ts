import type { Device } from '@sessiond/protocol';
import type { SessiondCall } from './passkeys.js';

/** A device the user has signed in from; `current` marks this one. */
export type UserDevice = Device & { current: boolean };

/** `client.devices`: the devices the user has signed in from, and their trust. */
export interface DeviceManager {
  /** Every device not forgotten, most recently seen first (`GET /api/auth/devices`). */
  list(): Promise<UserDevice[]>;
  /**
   * Sets (`trusted: true`, the default) or clears a device's trust; its sessions get the trusted
   * inactivity timeout from their next refresh. A session flagged for step-up is refused.
   */
  trust(deviceId: string, options?: { trusted?: boolean }): Promise<Device>;
  /** Forgets a device and ends its sessions (this one too, if it is this device). */
  forget(deviceId: string): Promise<void>;
}

export function deviceManager(call: SessiondCall): DeviceManager {
  return {
    async list() {
      return (await call<{ devices: UserDevice[] }>('/api/auth/devices', { method: 'GET' })).devices;
    },
    async trust(deviceId, options = {}) {
      const answer = await call<{ device: Device }>(
        `/api/auth/devices/${encodeURIComponent(deviceId)}/trust`,
        { method: 'POST', body: { trusted: options.trusted ?? true } },
      );
      return answer.device;
    },
    async forget(deviceId) {
      await call(`/api/auth/devices/${encodeURIComponent(deviceId)}`, { method: 'DELETE' });
    },
  };
}
