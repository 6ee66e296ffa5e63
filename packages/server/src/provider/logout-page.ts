import { escapeHTML } from '../http/html.js';

/**
 * The end-session endpoint's pages: plain HTML, no script, no style, every value escaped.
 * Strict CSP (`default-src 'none'`, forms only to sessiond) is set by the route.
 */
function page(title: string, body: string): string {
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="referrer" content="no-referrer">
<title>${escapeHTML(title)}</title>
</head>
<body>
<main>
<h1>${escapeHTML(title)}</h1>
${body}
</main>
</body>
</html>
`;
}

/** Asks the user whether to sign out (RP-Initiated Logout 1.0 §2: logout CSRF). */
export function confirmLogoutPage(input: {
  clientName: string | undefined;
  csrf: string;
  fields: Record<string, string | undefined>;
}): string {
  const hidden = Object.entries({ ...input.fields, csrf: input.csrf })
    .filter((entry): entry is [string, string] => entry[1] !== undefined)
    .map(([name, value]) => `<input type="hidden" name="${escapeHTML(name)}" value="${escapeHTML(value)}">`)
    .join('\n');
  const from =
    input.clientName === undefined
      ? ''
      : ` <strong>${escapeHTML(input.clientName)}</strong> asks you to sign out.`;
  return page(
    'Sign out?',
    `<p>Sign out of sessiond and of every app you signed into with it in this browser?${from}</p>
<form method="post" action="/oauth/logout">
${hidden}
<button type="submit" name="confirm" value="yes">Sign out</button>
</form>`,
  );
}

export function signedOutPage(): string {
  return page(
    'You are signed out',
    '<p role="status">You are signed out of sessiond. You can close this page.</p>',
  );
}

export function logoutRefusedPage(message: string): string {
  return page('Sign-out request refused', `<p role="alert">${escapeHTML(message)}.</p>`);
}
