import { createRequire } from 'node:module';
import { isIP } from 'node:net';
import type { GeoLocation } from '@sessiond/protocol';

/** Where an IP is, as far as geoip-lite's bundled data knows: ISO 3166-1 alpha-2 country, and city. */
export type { GeoLocation };

/** Looks a full IP up; the stored form of the IP is never enough (decision 035). */
export interface GeoLocator {
  locate(ip: string): GeoLocation | null;
}

type GeoIPLite = typeof import('geoip-lite');

/**
 * geoip-lite, loaded on the first lookup only: requiring it reads its country and city tables
 * (about 150 MB in memory), so a sessiond without SESSIOND_GEOIP never loads it at all.
 */
export class GeoIPLiteLocator implements GeoLocator {
  #module: GeoIPLite | undefined;

  locate(ip: string): GeoLocation | null {
    if (isIP(ip) === 0) return null;
    this.#module ??= createRequire(import.meta.url)('geoip-lite') as GeoIPLite;
    const found = this.#module.lookup(ip);
    // Private, loopback and unallocated addresses are in no table.
    if (!found?.country) return null;
    return { country: found.country, city: found.city || null };
  }
}
