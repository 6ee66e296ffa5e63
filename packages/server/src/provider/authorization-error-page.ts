import { escapeHTML } from '../http/html.js';

/**
 * The page shown when an authorization request cannot be answered at the client (unknown client,
 * unregistered redirect_uri: RFC 6749 §4.1.2.1 forbids redirecting then). Plain HTML, no script.
 */
export function authorizationErrorPage(message: string): string {
  const text = escapeHTML(message);
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Sign-in request refused</title>
</head>
<body>
<main>
<h1>This sign-in request cannot be completed</h1>
<p role="alert">${text}.</p>
<p>Go back to the app and try again. If this keeps happening, the app is not set up correctly with sessiond.</p>
</main>
</body>
</html>
`;
}
