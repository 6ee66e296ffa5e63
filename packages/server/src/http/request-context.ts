import type { GeoLocation } from '../privacy/geo-locator.js';

/** Who is calling, as far as the audit log is concerned. */
export interface RequestContext {
  /** The client IP in its stored form (SESSIOND_IP_STORAGE, decision 035), never more. */
  ip: string;
  userAgent: string | null;
  /** Country and city of the full IP, when SESSIOND_GEOIP is on (null: not found, or off). */
  location?: GeoLocation | null;
}
