import { GeoIPLiteLocator, type GeoLocation, type GeoLocator } from './geo-locator.js';
import { IPMinimiser, type IPStorageMode } from './ip-minimiser.js';

/** What sessiond keeps of where a request came from. */
export interface ClientAddress {
  /** The IP in its stored form (SESSIOND_IP_STORAGE). */
  ip: string;
  /** Country and city, when SESSIOND_GEOIP is on and the address is in its tables; else null. */
  location: GeoLocation | null;
}

/**
 * The one place a full client IP is turned into what is kept (decision 035): the location is
 * looked up from the full address, then only the minimised address and the location go on.
 */
export class ClientAddresses {
  constructor(
    private readonly minimiser: IPMinimiser,
    private readonly locator: GeoLocator | undefined,
  ) {}

  describe(ip: string): ClientAddress {
    return { ip: this.minimiser.minimise(ip), location: this.locator?.locate(ip) ?? null };
  }

  /** The stored form alone, for a log line. */
  minimise(ip: string): string {
    return this.minimiser.minimise(ip);
  }
}

/** SESSIOND_IP_STORAGE and SESSIOND_GEOIP as a ClientAddresses; geoip-lite stays unloaded when off. */
export function clientAddressesFrom(
  config: { ipStorage: IPStorageMode; geoIP: boolean },
  masterSecret: string,
): ClientAddresses {
  return new ClientAddresses(
    new IPMinimiser(config.ipStorage, masterSecret),
    config.geoIP ? new GeoIPLiteLocator() : undefined,
  );
}
