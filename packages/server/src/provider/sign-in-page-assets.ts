/**
 * The sign-in page's two static files, served by sessiond from its own origin (the CSP allows
 * nothing else). Kept as strings in the build output: no bundler, no file to copy next to dist/.
 */

export const SIGN_IN_CSS = `/* sessiond sign-in page: one column, system fonts, WCAG AA contrast, focus always visible. */
:root { color-scheme: light; --ink: #1f2328; --muted: #57606a; --accent: #0b57d0; --error: #b3261e; }
* { box-sizing: border-box; }
body { margin: 0; font: 16px/1.5 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; color: var(--ink); background: #f6f8fa; }
main { max-width: 26rem; margin: 3rem auto; padding: 2rem; background: #fff; border: 1px solid #d0d7de; border-radius: 8px; }
h1 { font-size: 1.5rem; margin: 0 0 .25rem; }
.app { color: var(--muted); margin: 0 0 1.5rem; }
label { display: block; font-weight: 600; margin: 1rem 0 .25rem; }
input[type=email], input[type=password], input[type=text] { width: 100%; padding: .6rem .7rem; font: inherit; border: 1px solid #8c959f; border-radius: 6px; }
button { font: inherit; font-weight: 600; padding: .6rem 1rem; border-radius: 6px; border: 1px solid var(--accent); cursor: pointer; margin-top: 1.25rem; }
button.primary { background: var(--accent); color: #fff; width: 100%; }
button.secondary { background: #fff; color: var(--accent); width: 100%; }
:focus-visible { outline: 3px solid var(--accent); outline-offset: 2px; }
input:focus-visible { border-color: var(--accent); }
.error-summary { border: 2px solid var(--error); border-radius: 6px; padding: .75rem 1rem; margin: 0 0 1rem; color: var(--error); }
.error-summary h2 { font-size: 1rem; margin: 0 0 .25rem; }
.error-summary p { margin: 0; color: var(--ink); }
.notice { background: #ddf4ff; border-radius: 6px; padding: .75rem 1rem; margin: 0 0 1rem; }
.hint { color: var(--muted); font-size: .9rem; margin: .25rem 0 0; }
.or { text-align: center; color: var(--muted); margin: 1.5rem 0 0; }
section + section { border-top: 1px solid #d0d7de; margin-top: 1.5rem; }
[hidden] { display: none !important; }
`;

/**
 * Passkeys on the page: the only thing that needs JavaScript. Each `form[data-passkey]` holds a
 * hidden button; where WebAuthn exists the button shows, and a click asks sessiond for options
 * (`data-options` URL, the form's hidden fields as the body), calls navigator.credentials.get,
 * writes the assertion into the form's hidden `passkey_response` and `ceremony_id`, and submits
 * it: the answer is a normal navigation (a redirect to the app, or the page again with an error).
 */
export const SIGN_IN_JS = `'use strict';
(function () {
  // base64url <-> ArrayBuffer (WebAuthn's JSON forms use base64url without padding).
  function fromBase64url(text) {
    var base64 = text.replace(/-/g, '+').replace(/_/g, '/');
    var binary = atob(base64 + '==='.slice((base64.length + 3) % 4));
    var bytes = new Uint8Array(binary.length);
    for (var i = 0; i < binary.length; i += 1) bytes[i] = binary.charCodeAt(i);
    return bytes.buffer;
  }
  function toBase64url(buffer) {
    var bytes = new Uint8Array(buffer);
    var binary = '';
    for (var i = 0; i < bytes.length; i += 1) binary += String.fromCharCode(bytes[i]);
    return btoa(binary).replace(/\\+/g, '-').replace(/\\//g, '_').replace(/=+$/, '');
  }

  // PublicKeyCredentialRequestOptionsJSON -> what navigator.credentials.get takes.
  function requestOptions(json) {
    var options = Object.assign({}, json, { challenge: fromBase64url(json.challenge) });
    if (json.allowCredentials) {
      options.allowCredentials = json.allowCredentials.map(function (credential) {
        return Object.assign({}, credential, { id: fromBase64url(credential.id) });
      });
    }
    return options;
  }

  // The assertion as AuthenticationResponseJSON, which sessiond verifies.
  function assertionJSON(credential) {
    var response = credential.response;
    return {
      id: credential.id,
      rawId: toBase64url(credential.rawId),
      type: credential.type,
      response: {
        clientDataJSON: toBase64url(response.clientDataJSON),
        authenticatorData: toBase64url(response.authenticatorData),
        signature: toBase64url(response.signature),
        userHandle: response.userHandle ? toBase64url(response.userHandle) : undefined,
      },
      clientExtensionResults: credential.getClientExtensionResults(),
      authenticatorAttachment: credential.authenticatorAttachment || undefined,
    };
  }

  function showError(message) {
    var summary = document.getElementById('passkey-error');
    if (!summary) return;
    summary.querySelector('p').textContent = message;
    summary.hidden = false;
    summary.focus();
  }

  function start(form, button) {
    button.disabled = true;
    var fields = new URLSearchParams();
    form.querySelectorAll('input[type=hidden][data-send]').forEach(function (input) {
      fields.append(input.name, input.value);
    });
    fetch(form.dataset.options, { method: 'POST', body: fields, credentials: 'same-origin' })
      .then(function (answer) {
        return answer.json().then(function (body) {
          if (!answer.ok) throw new Error(body.message || 'the passkey could not be started');
          return body;
        });
      })
      .then(function (body) {
        form.elements.ceremony_id.value = body.ceremony_id;
        return navigator.credentials.get({ publicKey: requestOptions(body.options) });
      })
      .then(function (credential) {
        form.elements.passkey_response.value = JSON.stringify(assertionJSON(credential));
        form.submit();
      })
      .catch(function (error) {
        button.disabled = false;
        // NotAllowedError: the user cancelled or no passkey answered; nothing was sent.
        showError(error && error.name === 'NotAllowedError'
          ? 'No passkey was used. Try again, or use another way to sign in.'
          : (error && error.message) || 'The passkey could not be used.');
      });
  }

  document.addEventListener('DOMContentLoaded', function () {
    if (!window.PublicKeyCredential || !navigator.credentials) return;
    document.querySelectorAll('form[data-passkey]').forEach(function (form) {
      var button = form.querySelector('button');
      form.hidden = false;
      button.addEventListener('click', function () { start(form, button); });
    });
  });
})();
`;
