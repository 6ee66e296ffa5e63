import type { Device } from '@sessiond/protocol';

/** A short human name for a device: its given name, else "Browser on OS", else the user agent. */
export function deviceLabel(device: Device | null, userAgent: string | null = null): string {
  if (device?.name) return device.name;
  const parts = [device?.browser, device?.os].filter((part): part is string => Boolean(part));
  if (parts.length > 0) return parts.join(' on ');
  return userAgent ?? device?.platform ?? 'Unknown device';
}

/** Class names: the component's fixed hook, then the app's own. */
export function classNames(...names: Array<string | undefined | false>): string {
  return names.filter(Boolean).join(' ');
}
