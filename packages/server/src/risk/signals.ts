import { isIP } from 'node:net';
import { UAParser } from 'ua-parser-js';

/** Every signal the risk engine knows; weights come from configuration (SESSIOND_RISK_WEIGHTS). */
export const RISK_SIGNALS = [
  'new_device',
  'trusted_device',
  'user_agent_changed',
  'ip_network_changed',
  'failed_logins_account',
  'failed_logins_ip',
  'refresh_token_reused',
  'concurrent_sessions',
  'signin_velocity',
] as const;

export type RiskSignal = (typeof RISK_SIGNALS)[number];

/**
 * The network an address belongs to, for "did the IP change network": the /24 of an IPv4
 * address, the /48 of an IPv6 one (a site's usual allocation, RFC 6177). Null if not an IP.
 * Understands the stored forms of SESSIOND_IP_STORAGE (decision 035): a truncated address is
 * its own network, a hashed one (`h:<network>:<address>`) carries its network's keyed hash.
 */
export function networkOf(ip: string | null): string | null {
  if (!ip) return null;
  if (ip.startsWith('h:')) {
    const [, network] = ip.split(':');
    return network ? `h:${network}` : null;
  }
  const cidr = /^(.+)\/(24|48)$/.exec(ip);
  if (cidr?.[1] !== undefined) {
    const version = isIP(cidr[1]);
    if ((version === 4 && cidr[2] === '24') || (version === 6 && cidr[2] === '48')) return networkOf(cidr[1]);
    return null;
  }
  const address = canonicalAddress(ip);
  if (address === null) return null;
  if (isIP(address) === 4) return `${address.split('.').slice(0, 3).join('.')}.0/24`;
  return `${address.split(':').slice(0, 3).join(':')}::/48`;
}

/**
 * One spelling per address: an IPv4-mapped IPv6 address as its IPv4 address, an IPv6 address
 * with all eight groups, lower case, without leading zeros. Null if not an IP.
 */
export function canonicalAddress(ip: string): string | null {
  const mapped = ip.toLowerCase().startsWith('::ffff:') && isIP(ip.slice(7)) === 4 ? ip.slice(7) : ip;
  const version = isIP(mapped);
  if (version === 4) return mapped;
  if (version === 6) return expandIPv6(mapped).join(':');
  return null;
}

function expandIPv6(ip: string): string[] {
  const [head = '', tail = ''] = ip.split('::');
  const left = head ? head.split(':') : [];
  const right = tail ? tail.split(':') : [];
  const zeros = Array(Math.max(0, 8 - left.length - right.length)).fill('0');
  return [...left, ...(ip.includes('::') ? zeros : []), ...right].map((group) =>
    group.toLowerCase().replace(/^0+(?=.)/, ''),
  );
}

/**
 * The parts of a User-Agent that do not change on an ordinary update: browser family, OS
 * family and form factor. A browser updating itself mid-session is not suspicious; a session
 * token moving from Chrome on Android to curl is.
 */
export function userAgentFamily(userAgent: string | null): string | null {
  if (!userAgent) return null;
  const { browser, os, device } = new UAParser(userAgent).getResult();
  return [browser.name ?? userAgent.split('/')[0], os.name ?? '', device.type ?? ''].join('|');
}
