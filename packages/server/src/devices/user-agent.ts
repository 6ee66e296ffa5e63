import { UAParser } from 'ua-parser-js';

export interface ParsedUserAgent {
  browser: string | null;
  os: string | null;
  deviceType: string | null;
}

const join = (...parts: Array<string | undefined>): string | null => parts.filter(Boolean).join(' ') || null;

/** Browser, OS and form factor from a User-Agent header; absent parts are null. */
export function parseUserAgent(userAgent: string | null): ParsedUserAgent {
  if (!userAgent) return { browser: null, os: null, deviceType: null };
  const result = new UAParser(userAgent).getResult();
  return {
    browser: join(result.browser.name, result.browser.major),
    os: join(result.os.name, result.os.version),
    // ua-parser-js leaves desktop browsers without a device type.
    deviceType: result.device.type ?? (result.browser.name ? 'desktop' : null),
  };
}
