import { CookieJar } from './cookies.js';

/** One answer the browser got: the URL asked for, and what came back. */
export interface PageHop {
  url: string;
  status: number;
  /** Absolute, when the answer was a redirect. */
  location: string | undefined;
  headers: Headers;
  body: string;
}

/** A `<form>` of a page: where it posts and its hidden fields (values unescaped). */
export interface PageForm {
  action: string;
  fields: Record<string, string>;
  /** Names of the visible inputs (email, password, totp, email_code). */
  inputs: string[];
}

const UNESCAPE: Record<string, string> = {
  '&amp;': '&',
  '&lt;': '<',
  '&gt;': '>',
  '&quot;': '"',
  '&#39;': "'",
  '&#96;': '`',
};
const unescapeHTML = (text: string): string =>
  text.replace(/&(amp|lt|gt|quot|#39|#96);/g, (entity) => UNESCAPE[entity] ?? entity);

function attribute(tag: string, name: string): string | undefined {
  const match = new RegExp(`\\s${name}="([^"]*)"`).exec(tag);
  return match?.[1] === undefined ? undefined : unescapeHTML(match[1]);
}

/** Every form of a sign-in page, as a browser would see them (regular expressions suffice for sessiond's own markup). */
export function formsOf(html: string): PageForm[] {
  return [...html.matchAll(/<form\b([^>]*)>([\s\S]*?)<\/form>/g)].map(([, open = '', inner = '']) => {
    const fields: Record<string, string> = {};
    const inputs: string[] = [];
    for (const [tag] of inner.matchAll(/<input\b[^>]*>/g)) {
      const name = attribute(tag, 'name');
      if (name === undefined) continue;
      if (attribute(tag, 'type') === 'hidden') fields[name] = attribute(tag, 'value') ?? '';
      else inputs.push(name);
    }
    return { action: attribute(open, 'action') ?? '', fields, inputs };
  });
}

/** The text of the page's error summary (role=alert), if it shows one. */
export function errorSummaryOf(html: string): string | undefined {
  const match =
    /<div class="error-summary" role="alert" tabindex="-1" autofocus>\s*<h2>[^<]*<\/h2>\s*<p>([\s\S]*?)<\/p>/.exec(
      html,
    );
  return match?.[1] === undefined ? undefined : unescapeHTML(match[1]);
}

/**
 * Just enough of a browser for sessiond's sign-in page, with fetch: one cookie jar for sessiond's
 * origin, redirects followed by hand until they leave it (the app's redirect URI is returned, not
 * fetched), forms posted as a browser posts them (form-encoded, same-origin).
 */
export class SignInPageBrowser {
  readonly jar = new CookieJar();
  readonly #origin: string;

  constructor(issuer: string) {
    this.#origin = new URL(issuer).origin;
  }

  async get(url: string): Promise<PageHop> {
    return this.#fetch(url, { method: 'GET' });
  }

  /** Posts `form` with its hidden fields and `values`, as the page's own submit would. */
  async submit(
    form: PageForm,
    values: Record<string, string> = {},
    headers: Record<string, string> = {},
  ): Promise<PageHop> {
    return this.#fetch(new URL(form.action, this.#origin).href, {
      method: 'POST',
      body: new URLSearchParams({ ...form.fields, ...values }).toString(),
      headers: {
        'content-type': 'application/x-www-form-urlencoded',
        // What Chromium sends with a same-origin form under Referrer-Policy: no-referrer.
        origin: 'null',
        'sec-fetch-site': 'same-origin',
        ...headers,
      },
    });
  }

  /** Follows redirects inside sessiond's origin; returns the first answer that is a page or leaves it. */
  async follow(hop: PageHop): Promise<PageHop> {
    let current = hop;
    for (let i = 0; i < 10; i += 1) {
      if (current.location === undefined || new URL(current.location).origin !== this.#origin) return current;
      current = await this.get(current.location);
    }
    throw new Error(`too many redirects from ${hop.url}`);
  }

  async #fetch(
    url: string,
    init: { method: string; body?: string; headers?: Record<string, string> },
  ): Promise<PageHop> {
    const target = new URL(url);
    const cookie = this.jar.header(target.pathname);
    const response = await fetch(target, {
      method: init.method,
      redirect: 'manual',
      headers: { ...init.headers, ...(cookie ? { cookie } : {}) },
      ...(init.body !== undefined ? { body: init.body } : {}),
    });
    this.jar.update(response.headers);
    const location = response.headers.get('location');
    return {
      url,
      status: response.status,
      location: location === null ? undefined : new URL(location, target).href,
      headers: response.headers,
      body: await response.text(),
    };
  }
}

/** The form posting to `action` on a page, or an error naming what the page shows instead. */
export function formOn(hop: PageHop, action: string): PageForm {
  const form = formsOf(hop.body).find((candidate) => candidate.action === action);
  if (!form) {
    throw new Error(
      `no form to ${action} on ${hop.url} (${hop.status}): ${errorSummaryOf(hop.body) ?? hop.body.slice(0, 300)}`,
    );
  }
  return form;
}

/**
 * Signs a user in through sessiond's real sign-in page, as a browser would: GET the authorization
 * URL, follow to the page, post email and password, answer a second factor or a step-up with
 * `totp()` when the page asks for one, and return the redirect to the app (with the code and state).
 * Pass a `browser` to keep its cookies (SSO, device) across sign-ins.
 */
export async function signInThroughPage(
  authorizeURL: string,
  options: { email: string; password: string; totp?: () => string; browser?: SignInPageBrowser },
): Promise<{ redirect: URL; browser: SignInPageBrowser }> {
  const browser = options.browser ?? new SignInPageBrowser(authorizeURL);
  let hop = await browser.follow(await browser.get(authorizeURL));
  for (let step = 0; step < 4; step += 1) {
    if (hop.location !== undefined) return { redirect: new URL(hop.location), browser };
    const forms = formsOf(hop.body);
    const signIn = forms.find((form) => form.action === '/oauth/sign-in' && form.inputs.includes('password'));
    const code = forms.find((form) => form.inputs.includes('totp'));
    if (signIn) {
      hop = await browser.follow(
        await browser.submit(signIn, { email: options.email, password: options.password }),
      );
    } else if (code && options.totp) {
      hop = await browser.follow(await browser.submit(code, { totp: options.totp() }));
    } else {
      throw new Error(
        `the sign-in page did not finish (${hop.status}): ${errorSummaryOf(hop.body) ?? hop.body.slice(0, 500)}`,
      );
    }
  }
  throw new Error('the sign-in page kept asking');
}
