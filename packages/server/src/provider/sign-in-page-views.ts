import { html, type SafeHTML } from '../http/html.js';
import type { StepUpFactor } from '../store/records.js';

/** What every form of one authorization request's page carries. */
export interface PageFrame {
  clientName: string;
  requestId: string;
  csrf: string;
  /** Shown in the error summary (role=alert), focused first. */
  error?: string;
  /** A neutral message (a code was mailed). */
  notice?: string;
}

export const ASSET_PATH = '/oauth/assets';

function layout(input: { title: string; heading: string; clientName?: string; body: SafeHTML }): SafeHTML {
  return html`<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="referrer" content="no-referrer">
<title>${input.title}</title>
<link rel="stylesheet" href="${ASSET_PATH}/sign-in.css">
<script src="${ASSET_PATH}/sign-in.js" defer></script>
</head>
<body>
<main>
<h1>${input.heading}</h1>
${input.clientName !== undefined ? html`<p class="app">to continue to <strong>${input.clientName}</strong></p>` : ''}
${input.body}
</main>
</body>
</html>
`;
}

/** The error summary (GOV.UK pattern): announced, and focused so keyboard users start there. */
function summary(frame: PageFrame): SafeHTML {
  return html`${
    frame.error !== undefined
      ? html`<div class="error-summary" role="alert" tabindex="-1" autofocus>
<h2>There is a problem</h2>
<p>${frame.error}</p>
</div>`
      : ''
  }
${frame.notice !== undefined ? html`<p class="notice" role="status">${frame.notice}</p>` : ''}
<div class="error-summary" id="passkey-error" role="alert" tabindex="-1" hidden><h2>There is a problem</h2><p></p></div>`;
}

function hidden(frame: PageFrame, extra: Record<string, string> = {}): SafeHTML {
  const fields = { request: frame.requestId, csrf: frame.csrf, ...extra };
  return html`${Object.entries(fields).map(
    ([name, value]) => html`<input type="hidden" name="${name}" value="${value}" data-send>`,
  )}`;
}

/**
 * A passkey button: hidden until sign-in.js finds WebAuthn, so without JavaScript nothing dead
 * shows. The script fetches options, asks the authenticator, fills the two empty fields, submits.
 */
function passkeyForm(
  frame: PageFrame,
  input: { action: string; purpose: string; label: string; extra?: Record<string, string> },
): SafeHTML {
  return html`<form method="post" action="${input.action}" data-passkey data-options="/oauth/sign-in/passkey-options" hidden>
${hidden(frame, { purpose: input.purpose, ...input.extra })}
<input type="hidden" name="ceremony_id" value="">
<input type="hidden" name="passkey_response" value="">
<button type="button" class="secondary">${input.label}</button>
</form>`;
}

export function signInView(frame: PageFrame, input: { email?: string }): SafeHTML {
  const focusEmail = frame.error === undefined && input.email === undefined;
  const focusPassword = frame.error === undefined && input.email !== undefined;
  return layout({
    title: `Sign in to ${frame.clientName}`,
    heading: 'Sign in',
    clientName: frame.clientName,
    body: html`${summary(frame)}
<form method="post" action="/oauth/sign-in">
${hidden(frame)}
<label for="email">Email</label>
<input id="email" name="email" type="email" autocomplete="username" required maxlength="254" value="${input.email ?? ''}"${focusEmail ? html` autofocus` : ''}>
<label for="password">Password</label>
<input id="password" name="password" type="password" autocomplete="current-password" required maxlength="1024"${focusPassword ? html` autofocus` : ''}>
<button type="submit" class="primary">Sign in</button>
</form>
${passkeyForm(frame, { action: '/oauth/sign-in/passkey', purpose: 'sign_in', label: 'Sign in with a passkey' })}`,
  });
}

/** The code fields and buttons for the factors offered, shared by the second-factor and step-up forms. */
function factorForms(
  frame: PageFrame,
  input: {
    action: string;
    factors: readonly StepUpFactor[];
    /** Extra hidden fields (the pending sign-in's token). */
    extra: Record<string, string>;
    purpose: 'second_factor' | 'step_up';
    emailCodeAction: string;
    emailCodeSent: boolean;
    /** The first form's first field gets the focus when there is no error to read first. */
    focus: boolean;
  },
): SafeHTML {
  const sections: SafeHTML[] = [];
  // The first field on the page takes the focus (when there is no error summary to read first).
  let focused = !input.focus;
  const focus = (): SafeHTML | '' => {
    if (focused) return '';
    focused = true;
    return html` autofocus`;
  };
  if (input.factors.includes('passkey')) {
    sections.push(
      html`<section>${passkeyForm(frame, {
        action: input.action,
        purpose: input.purpose,
        label: 'Use a passkey',
        extra: input.extra,
      })}</section>`,
    );
  }
  if (input.factors.includes('totp')) {
    sections.push(html`<section><form method="post" action="${input.action}">
${hidden(frame, input.extra)}
<label for="totp">Code from your authenticator app</label>
<input id="totp" name="totp" type="text" inputmode="numeric" pattern="[0-9]{6}" maxlength="6" autocomplete="one-time-code" required${focus()}>
<button type="submit" class="primary">Verify</button>
</form></section>`);
  }
  if (input.factors.includes('email_code')) {
    sections.push(html`<section>${
      input.emailCodeSent
        ? html`<form method="post" action="${input.action}">
${hidden(frame, input.extra)}
<label for="email_code">Code from the email</label>
<input id="email_code" name="email_code" type="text" inputmode="numeric" pattern="[0-9]{6}" maxlength="6" autocomplete="one-time-code" required${focus()}>
<button type="submit" class="primary">Verify</button>
</form>`
        : ''
    }
<form method="post" action="${input.emailCodeAction}">
${hidden(frame, input.extra)}
<button type="submit" class="secondary"${input.emailCodeSent ? '' : focus()}>${input.emailCodeSent ? 'Send a new code' : 'Email me a code'}</button>
</form></section>`);
  }
  if (input.factors.includes('password') && input.purpose === 'step_up') {
    sections.push(html`<section><form method="post" action="${input.action}">
${hidden(frame, input.extra)}
<label for="password">Password</label>
<input id="password" name="password" type="password" autocomplete="current-password" required maxlength="1024"${focus()}>
<button type="submit" class="primary">Confirm</button>
</form></section>`);
  }
  return html`${sections}`;
}

export function secondFactorView(
  frame: PageFrame,
  input: { pendingToken: string; factors: readonly StepUpFactor[]; emailCodeSent: boolean },
): SafeHTML {
  return layout({
    title: `Verify it's you - ${frame.clientName}`,
    heading: 'Verify it’s you',
    clientName: frame.clientName,
    body: html`${summary(frame)}
<p>This sign-in needs a second step.</p>
${factorForms(frame, {
  action: '/oauth/sign-in/verify',
  factors: input.factors,
  extra: { pending: input.pendingToken, factors: input.factors.join(',') },
  purpose: 'second_factor',
  emailCodeAction: '/oauth/sign-in/verify/email-code',
  emailCodeSent: input.emailCodeSent,
  focus: frame.error === undefined,
})}
<p class="or"><a href="/oauth/sign-in?request=${encodeURIComponent(frame.requestId)}">Start again</a></p>`,
  });
}

export function stepUpView(
  frame: PageFrame,
  input: {
    email: string | null;
    factors: readonly StepUpFactor[];
    reason: 'aal2' | 'fresh';
    emailCodeSent: boolean;
  },
): SafeHTML {
  const why =
    input.reason === 'aal2'
      ? 'asks for a second factor: a passkey or a code from your authenticator app.'
      : 'asks you to confirm it’s you.';
  return layout({
    title: `Confirm it's you - ${frame.clientName}`,
    heading: 'Confirm it’s you',
    clientName: frame.clientName,
    body: html`${summary(frame)}
<p>${input.email !== null ? html`Signed in as <strong>${input.email}</strong>. ` : ''}${frame.clientName} ${why}</p>
${
  input.factors.length > 0
    ? factorForms(frame, {
        action: '/oauth/sign-in/step-up',
        factors: input.factors,
        extra: {},
        purpose: 'step_up',
        emailCodeAction: '/oauth/sign-in/step-up/email-code',
        emailCodeSent: input.emailCodeSent,
        focus: frame.error === undefined,
      })
    : html`<p>Your account has no way to do that here yet. Add a passkey or an authenticator app to your account, then try again.</p>`
}
<p class="or"><a href="/oauth/sign-in?request=${encodeURIComponent(frame.requestId)}&amp;account=other">Sign in with another account</a></p>`,
  });
}

/** A page with no form: an expired request, a refused form. */
export function messageView(input: { title: string; message: string }): SafeHTML {
  return layout({
    title: input.title,
    heading: input.title,
    body: html`<div class="error-summary" role="alert" tabindex="-1" autofocus><h2>There is a problem</h2><p>${input.message}</p></div>
<p>Go back to the app you came from and sign in again.</p>`,
  });
}
