import * as client from 'openid-client';
import { SessiondError } from '../errors.js';
import { isLoopbackURL, type OIDCProviderConfig } from './oidc-config.js';

/** How long discovery (and each later request to the provider) may take, in seconds. */
const PROVIDER_TIMEOUT_SECONDS = 10;

/**
 * The configured upstream OpenID providers and their discovered metadata (openid-client). Each
 * provider is discovered on first use, not at start-up, so a provider that is down does not stop
 * sessiond; a failed discovery is forgotten and tried again by the next sign-in.
 */
export class UpstreamProviders {
  readonly #providers: ReadonlyMap<string, OIDCProviderConfig>;
  readonly #discovered = new Map<string, Promise<client.Configuration>>();

  constructor(providers: readonly OIDCProviderConfig[]) {
    this.#providers = new Map(providers.map((provider) => [provider.name, provider]));
  }

  /** The provider named `name`; oidc_provider_unknown if none is configured under it. */
  get(name: string): OIDCProviderConfig {
    const provider = this.#providers.get(name);
    if (!provider)
      throw new SessiondError('oidc_provider_unknown', `no OpenID provider is configured as "${name}"`);
    return provider;
  }

  /** Its openid-client configuration, discovered once (single flight); oidc_provider_unavailable on failure. */
  async configuration(provider: OIDCProviderConfig): Promise<client.Configuration> {
    let pending = this.#discovered.get(provider.name);
    if (!pending) {
      pending = discover(provider);
      this.#discovered.set(provider.name, pending);
      // Forget a failure, but only if it is still the current attempt.
      pending.catch(() => {
        if (this.#discovered.get(provider.name) === pending) this.#discovered.delete(provider.name);
      });
    }
    try {
      return await pending;
    } catch {
      throw new SessiondError(
        'oidc_provider_unavailable',
        `the OpenID provider "${provider.name}" could not be discovered; try again later`,
      );
    }
  }
}

async function discover(provider: OIDCProviderConfig): Promise<client.Configuration> {
  const issuer = new URL(provider.issuer);
  const auth =
    provider.clientSecret === undefined ? client.None() : client.ClientSecretBasic(provider.clientSecret);
  const execute = [
    // The ID token's signature is checked against the provider's JWKS too, not only TLS (decision 023).
    client.enableNonRepudiationChecks,
    // Plain http only for a loopback issuer (config refuses any other): tests, local development.
    ...(issuer.protocol === 'http:' && isLoopbackURL(issuer) ? [client.allowInsecureRequests] : []),
  ];
  const configuration = await client.discovery(issuer, provider.clientId, undefined, auth, {
    execute,
    timeout: PROVIDER_TIMEOUT_SECONDS,
  });
  configuration.timeout = PROVIDER_TIMEOUT_SECONDS;
  return configuration;
}
