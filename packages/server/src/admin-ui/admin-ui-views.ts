import { LOG_ACTIONS } from '@sessiond/protocol';
import { html, type SafeHTML } from '../http/html.js';

export const ADMIN_ASSET_PATH = '/admin/assets';

function layout(input: { title: string; body: SafeHTML; csrf?: string; script?: boolean }): SafeHTML {
  return html`<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="referrer" content="no-referrer">
${input.csrf !== undefined ? html`<meta name="sessiond-admin-csrf" content="${input.csrf}">` : ''}
<title>${input.title}</title>
<link rel="icon" href="data:,">
<link rel="stylesheet" href="${ADMIN_ASSET_PATH}/admin.css">
${input.script ? html`<script type="module" src="${ADMIN_ASSET_PATH}/admin.js"></script>` : ''}
</head>
<body>
${input.body}
</body>
</html>
`;
}

/** The admin key form: the only page a browser without the cookie sees. */
export function adminSignInView(input: { error?: string; signedOut?: boolean }): SafeHTML {
  return layout({
    title: 'Sign in: sessiond admin',
    body: html`<main class="narrow" id="main">
<h1>sessiond admin</h1>
${
  input.error !== undefined
    ? html`<div class="error-summary" role="alert" tabindex="-1" autofocus>
<h2>There is a problem</h2>
<p>${input.error}</p>
</div>`
    : ''
}
${input.signedOut ? html`<p class="notice" role="status">You are signed out.</p>` : ''}
<form method="post" action="/admin/sign-in">
<label for="admin-key">Admin API key</label>
<input id="admin-key" name="key" type="password" autocomplete="off" spellcheck="false" required${input.error === undefined ? html` autofocus` : ''} aria-describedby="admin-key-hint">
<p class="hint" id="admin-key-hint">A key from SESSIOND_ADMIN_API_KEYS or <code>sessiond admin create-key</code>. It is checked again on every request; the browser keeps only a sealed cookie for 8 hours.</p>
<button type="submit" class="primary">Sign in</button>
</form>
</main>`,
  });
}

function field(input: { id: string; label: string; name: string; type?: string }): SafeHTML {
  return html`<div class="field"><label for="${input.id}">${input.label}</label>
<input id="${input.id}" name="${input.name}" type="${input.type ?? 'text'}" autocomplete="off" spellcheck="false"></div>`;
}

function chart(input: { id: string; title: string; description: string; columns: string[] }): SafeHTML {
  return html`<figure class="card chart" id="${input.id}" aria-labelledby="${input.id}-title">
<h3 id="${input.id}-title">${input.title}</h3>
<p class="hint">${input.description}</p>
<div class="plot" data-plot><p class="muted">Loading…</p></div>
<details>
<summary>Data table</summary>
<table class="data">
<caption>${input.title}</caption>
<thead><tr>${input.columns.map((column) => html`<th scope="col">${column}</th>`)}</tr></thead>
<tbody data-rows></tbody>
</table>
</details>
</figure>`;
}

function stat(input: { id: string; label: string }): SafeHTML {
  return html`<div class="stat"><dt>${input.label}</dt><dd id="${input.id}">–</dd></div>`;
}

/**
 * The dashboard's shell, rendered at once; admin.js fills it from /admin/api. Nothing the server
 * renders here comes from the database, so the first paint costs no query (bench row: page load
 * on a million log rows).
 */
export function adminDashboardView(input: { csrf: string; keyId: string }): SafeHTML {
  return layout({
    title: 'sessiond admin',
    csrf: input.csrf,
    script: true,
    body: html`<a class="skip" href="#main">Skip to content</a>
<header class="top">
<p class="brand">sessiond admin</p>
<nav aria-label="Sections"><ul>
<li><a href="#users">Users</a></li>
<li><a href="#logs">Audit log</a></li>
<li><a href="#analytics">Analytics</a></li>
<li><a href="#health">Live health</a></li>
</ul></nav>
<form method="post" action="/admin/sign-out" class="sign-out">
<input type="hidden" name="csrf" value="${input.csrf}">
<span class="muted">key <code>${input.keyId}</code></span>
<button type="submit" class="secondary">Sign out</button>
</form>
</header>
<main id="main">
<h1 class="visually-hidden">sessiond admin dashboard</h1>
<p id="status" class="status" role="status" aria-live="polite"></p>

<section id="users" aria-labelledby="users-title" class="card">
<h2 id="users-title">Users</h2>
<form id="lookup" role="search" aria-label="Find a user" class="inline">
<div class="field grow"><label for="lookup-q">Email, user id or backend external id</label>
<input id="lookup-q" name="q" type="search" autocomplete="off" spellcheck="false" required></div>
<button type="submit" class="primary">Find user</button>
</form>
<div id="lookup-results" aria-live="polite"></div>
<div id="user-detail" hidden>
<h3 id="user-title" tabindex="-1"></h3>
<p id="user-meta" class="muted"></p>
<div class="toolbar">
<label class="check"><input type="checkbox" id="include-ended"> Include ended sessions</label>
<button type="button" id="revoke-all" class="danger">Revoke all sessions</button>
</div>
<table class="data" id="sessions-table">
<caption>Sessions</caption>
<thead><tr><th scope="col">Session</th><th scope="col">Device</th><th scope="col">IP</th><th scope="col">User agent</th><th scope="col">Location</th><th scope="col">Created</th><th scope="col">Last activity</th><th scope="col">State</th><th scope="col"><span class="visually-hidden">Actions</span></th></tr></thead>
<tbody></tbody>
</table>
<button type="button" id="sessions-more" class="secondary" hidden>More sessions</button>
<table class="data" id="devices-table">
<caption>Devices</caption>
<thead><tr><th scope="col">Device</th><th scope="col">Type</th><th scope="col">Browser and OS</th><th scope="col">Last IP</th><th scope="col">Location</th><th scope="col">Trusted</th><th scope="col">First seen</th><th scope="col">Last seen</th></tr></thead>
<tbody></tbody>
</table>
<button type="button" id="devices-more" class="secondary" hidden>More devices</button>
</div>
</section>

<section id="logs" aria-labelledby="logs-title" class="card">
<h2 id="logs-title">Audit log</h2>
<form id="log-filters" class="filters" aria-label="Filter the audit log">
${field({ id: 'log-user', label: 'User id', name: 'user_id' })}
<div class="field"><label for="log-action">Action</label>
<select id="log-action" name="action"><option value="">Any action</option>${LOG_ACTIONS.map(
      (action) => html`<option value="${action}">${action}</option>`,
    )}</select></div>
${field({ id: 'log-ip', label: 'IP address', name: 'ip' })}
${field({ id: 'log-from', label: 'From (UTC)', name: 'from', type: 'datetime-local' })}
${field({ id: 'log-to', label: 'To (UTC)', name: 'to', type: 'datetime-local' })}
<div class="field actions"><button type="submit" class="primary">Apply filters</button>
<button type="reset" class="secondary">Clear</button></div>
</form>
<table class="data" id="log-table">
<caption>Audit log entries, newest first</caption>
<thead><tr><th scope="col">Time (UTC)</th><th scope="col">Action</th><th scope="col">Result</th><th scope="col">User</th><th scope="col">IP</th><th scope="col">User agent</th><th scope="col">Session</th></tr></thead>
<tbody></tbody>
</table>
<nav class="pager" aria-label="Audit log pages">
<button type="button" id="logs-prev" class="secondary" disabled>Previous page</button>
<span id="logs-page" aria-live="polite">Page 1</span>
<button type="button" id="logs-next" class="secondary" disabled>Next page</button>
</nav>
</section>

<section id="analytics" aria-labelledby="analytics-title">
<h2 id="analytics-title">Analytics</h2>
<div class="charts">
${chart({ id: 'chart-logins', title: 'Sign-ins per day', description: 'Successful and failed sign-ins per UTC day, the last 30 days.', columns: ['Day', 'Sign-ins', 'Failed'] })}
${chart({ id: 'chart-devices', title: 'Active sessions by device type', description: 'Sessions live now.', columns: ['Device type', 'Sessions'] })}
${chart({ id: 'chart-duration', title: 'Session duration', description: 'Average length of the sessions that ended in the last 7 days, by how they ended.', columns: ['End reason', 'Sessions', 'Average (s)'] })}
${chart({ id: 'chart-failed', title: 'Failed sign-ins per user', description: 'Users with the most failed sign-ins, the last 7 days.', columns: ['User', 'Failed sign-ins', 'Last failure'] })}
${chart({ id: 'chart-ips', title: 'Suspicious IPs', description: 'IPs with the most sign-in attempts, the last 24 hours.', columns: ['IP', 'Attempts', 'Failed', 'Users'] })}
</div>
</section>

<section id="health" aria-labelledby="health-title" class="card">
<h2 id="health-title">Live health</h2>
<p><span id="health-state" role="status">Connecting…</span> <span id="health-updated" class="muted"></span></p>
<dl class="stats">
${stat({ id: 'h-rate', label: 'Requests per second' })}
${stat({ id: 'h-refresh-count', label: 'Refreshes, last minute' })}
${stat({ id: 'h-refresh-p50', label: 'Refresh latency p50' })}
${stat({ id: 'h-refresh-p99', label: 'Refresh latency p99' })}
${stat({ id: 'h-failures', label: 'Refresh failures, last minute' })}
${stat({ id: 'h-reuse', label: 'Reuse detections, last minute' })}
${stat({ id: 'h-stepups', label: 'Step-ups required / completed' })}
${stat({ id: 'h-revocation', label: 'Revocation to socket close p50 / p99' })}
${stat({ id: 'h-sockets', label: 'Open sockets' })}
${stat({ id: 'h-backlog', label: 'Webhook backlog' })}
</dl>
<table class="data" id="failures-table">
<caption>Refresh failures by reason (since start)</caption>
<thead><tr><th scope="col">Reason</th><th scope="col">Failures</th></tr></thead>
<tbody></tbody>
</table>
</section>
</main>

<dialog id="confirm" aria-labelledby="confirm-title" aria-describedby="confirm-text">
<form method="dialog">
<h2 id="confirm-title">Revoke?</h2>
<p id="confirm-text"></p>
<div class="toolbar"><button value="confirm" class="danger" id="confirm-yes">Revoke</button>
<button value="cancel" class="secondary" autofocus>Cancel</button></div>
</form>
</dialog>`,
  });
}
