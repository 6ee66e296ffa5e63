import { z } from 'zod';

/** One upstream OpenID provider, as SESSIOND_OIDC_PROVIDERS names it. */
export interface OIDCProviderConfig {
  /** The path segment of its routes: `/api/auth/oidc/<name>/start`. */
  readonly name: string;
  /** The issuer URL; discovery reads `<issuer>/.well-known/openid-configuration`. */
  readonly issuer: string;
  readonly clientId: string;
  /** Undefined: a public client (token endpoint auth `none`, PKCE only). */
  readonly clientSecret: string | undefined;
  /** Space-separated scopes asked for; always includes `openid`. */
  readonly scope: string;
}

const LOOPBACK_HOSTS: ReadonlySet<string> = new Set(['127.0.0.1', '[::1]', 'localhost']);

/** Whether `url` is on this machine: plain http is allowed there only (tests, local development). */
export function isLoopbackURL(url: URL): boolean {
  return LOOPBACK_HOSTS.has(url.hostname);
}

function issuerProblem(value: string): string | undefined {
  if (!URL.canParse(value)) return `${value} is not a URL`;
  const url = new URL(value);
  if (url.search || url.hash || url.username || url.password) {
    return `${value}: an issuer has no query, fragment or credentials`;
  }
  if (url.protocol === 'https:') return undefined;
  if (url.protocol === 'http:' && isLoopbackURL(url)) return undefined;
  return `${value} must be an https: URL (http: only on a loopback address)`;
}

const ProviderEntry = z.strictObject({
  name: z.string().regex(/^[a-z0-9][a-z0-9_-]{0,31}$/, 'a provider name is 1-32 of a-z 0-9 _ - (lower case)'),
  issuer: z.string().superRefine((value, context) => {
    const problem = issuerProblem(value);
    if (problem) context.addIssue({ code: 'custom', message: problem });
  }),
  client_id: z.string().min(1).max(256),
  client_secret: z.string().min(1).max(2048).optional(),
  scope: z
    .string()
    .regex(
      /^[\x21\x23-\x5B\x5D-\x7E]+( [\x21\x23-\x5B\x5D-\x7E]+)*$/,
      'scope is space-separated scope tokens',
    )
    .refine((scope) => scope.split(' ').includes('openid'), 'scope must include openid')
    .default('openid email profile'),
});

/**
 * SESSIOND_OIDC_PROVIDERS: a JSON array of `{name, issuer, client_id, client_secret?, scope?}`.
 * Names are unique; one issuer may appear once (its (issuer, sub) pairs name the linked users).
 */
export const oidcProviderList = z
  .string()
  .transform((text, context) => {
    try {
      return JSON.parse(text) as unknown;
    } catch {
      context.addIssue({ code: 'custom', message: 'must be a JSON array of providers' });
      return z.NEVER;
    }
  })
  .pipe(z.array(ProviderEntry).max(64))
  .superRefine((providers, context) => {
    const names = providers.map((provider) => provider.name);
    const issuers = providers.map((provider) => provider.issuer);
    const name = names.find((value, index) => names.indexOf(value) !== index);
    if (name !== undefined)
      context.addIssue({ code: 'custom', message: `provider "${name}" is named twice` });
    const issuer = issuers.find((value, index) => issuers.indexOf(value) !== index);
    if (issuer !== undefined)
      context.addIssue({ code: 'custom', message: `issuer ${issuer} is configured twice` });
  })
  .transform((providers): readonly OIDCProviderConfig[] =>
    Object.freeze(
      providers.map((provider) =>
        Object.freeze({
          name: provider.name,
          issuer: provider.issuer,
          clientId: provider.client_id,
          clientSecret: provider.client_secret,
          scope: provider.scope,
        }),
      ),
    ),
  );

function redirectProblem(value: string): string | undefined {
  if (!URL.canParse(value)) return `${value} is not a URL`;
  const url = new URL(value);
  if (url.hash || url.username || url.password) return `${value}: no fragment or credentials`;
  if (url.protocol === 'https:' || url.protocol === 'http:') return undefined;
  // RFC 8252 §7.1: a private-use scheme is a reverse domain name the app owns.
  if (/^[a-z][a-z0-9+-]*(\.[a-z0-9+-]+)+:$/.test(url.protocol)) return undefined;
  return `${value}: http(s), or an app's private-use scheme in reverse-domain form (com.example.app:/path)`;
}

/**
 * SESSIOND_OIDC_REDIRECTS: comma-separated URLs an OpenID sign-in may return to (see
 * RedirectAllowList for how a target matches). Normalised by the URL parser.
 */
export const oidcRedirectList = z
  .string()
  .transform((value) =>
    value
      .split(',')
      .map((item) => item.trim())
      .filter((item) => item.length > 0),
  )
  .superRefine((urls, context) => {
    for (const url of urls) {
      const problem = redirectProblem(url);
      if (problem) context.addIssue({ code: 'custom', message: problem });
    }
  })
  .transform((urls): readonly string[] => Object.freeze([...new Set(urls.map((url) => new URL(url).href))]));
