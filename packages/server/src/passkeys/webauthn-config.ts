/** The WebAuthn relying party sessiond acts as (SESSIOND_WEBAUTHN_*; docs/configuration.md). */
export interface WebAuthnConfig {
  /** The RP id: a domain the origins are on (WebAuthn §5.1.3: the origin's host or a registrable suffix of it). */
  readonly rpID: string;
  /** The name authenticators show the user. */
  readonly rpName: string;
  /** Origins (`scheme://host[:port]`) a ceremony may come from; matched exactly, nothing else is. */
  readonly origins: readonly string[];
}

/**
 * The relying party from the configured values, defaulting to the issuer's hostname and origin.
 * Throws a message naming the problem when an origin is not on the RP id's domain: every
 * ceremony from it would fail, so start-up refuses instead.
 */
export function webAuthnConfigFrom(input: {
  issuer: string;
  rpID: string | undefined;
  rpName: string | undefined;
  origins: readonly string[] | undefined;
}): WebAuthnConfig {
  const issuer = new URL(input.issuer);
  const rpID = (input.rpID ?? issuer.hostname).toLowerCase();
  const origins = input.origins && input.origins.length > 0 ? input.origins : [issuer.origin];
  for (const origin of origins) {
    const host = new URL(origin).hostname;
    if (host !== rpID && !host.endsWith(`.${rpID}`)) {
      throw new Error(
        `origin ${origin} is not on the RP id's domain ${rpID} (its host must be ${rpID} or end with .${rpID})`,
      );
    }
  }
  return Object.freeze({
    rpID,
    rpName: input.rpName ?? 'sessiond',
    origins: Object.freeze([...origins]),
  });
}
