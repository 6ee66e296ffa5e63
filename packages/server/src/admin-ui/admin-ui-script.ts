/**
 * The dashboard's one script (an ES module, served from /admin/assets; the CSP allows no other).
 * It talks to /admin/api with the cookie and the CSRF token from the page's meta tag, writes
 * every value with textContent (never HTML), and draws the charts as SVG elements. Written without
 * template literals: it lives inside one.
 */
export const ADMIN_JS = `'use strict';
var SVG = 'http://www.w3.org/2000/svg';
var csrf = document.querySelector('meta[name="sessiond-admin-csrf"]').getAttribute('content');
var statusEl = document.getElementById('status');

function say(message) {
  // Cleared first so the same message twice is announced twice.
  statusEl.textContent = '';
  window.setTimeout(function () { statusEl.textContent = message; }, 30);
}

function api(path, options) {
  var init = { method: (options && options.method) || 'GET', headers: { accept: 'application/json' }, credentials: 'same-origin' };
  if (init.method !== 'GET') {
    init.headers['x-sessiond-admin-csrf'] = csrf;
    init.headers['content-type'] = 'application/json';
    init.body = JSON.stringify((options && options.body) || {});
  }
  return fetch('/admin/api' + path, init).then(function (response) {
    if (response.status === 401) { window.location.assign('/admin'); throw new Error('signed out'); }
    return response.json().then(function (body) {
      if (!response.ok) throw new Error(body.message || body.error || ('HTTP ' + response.status));
      return body;
    });
  });
}

function el(name, attributes, children) {
  var node = document.createElement(name);
  Object.keys(attributes || {}).forEach(function (key) {
    if (key === 'text') node.textContent = attributes[key];
    else node.setAttribute(key, attributes[key]);
  });
  (children || []).forEach(function (child) { if (child) node.appendChild(child); });
  return node;
}

function svg(name, attributes, children) {
  var node = document.createElementNS(SVG, name);
  Object.keys(attributes || {}).forEach(function (key) {
    if (key === 'text') node.textContent = attributes[key];
    else node.setAttribute(key, String(attributes[key]));
  });
  (children || []).forEach(function (child) { if (child) node.appendChild(child); });
  return node;
}

function cell(text, header) {
  return el(header ? 'th' : 'td', header ? { scope: 'row', text: text } : { text: text });
}

function time(value) {
  return value ? value.replace('T', ' ').slice(0, 19) : '–';
}

// A {country, city} location (SESSIOND_GEOIP, decision 035) as 'City, CC'; 'unknown' without one.
function place(location) {
  if (!location || !location.country) return 'unknown';
  return location.city ? location.city + ', ' + location.country : location.country;
}

function short(id) {
  return id && id.length > 12 ? id.slice(0, 12) + '…' : (id || '–');
}

function replaceRows(tbody, rows, columns, emptyText) {
  tbody.textContent = '';
  if (rows.length === 0) {
    tbody.appendChild(el('tr', {}, [el('td', { colspan: String(columns), class: 'muted', text: emptyText })]));
    return;
  }
  rows.forEach(function (row) { tbody.appendChild(row); });
}

// ---- Users: lookup, sessions, devices, revoke ----
var current = { user: null, devices: {}, sessionsCursor: null, devicesCursor: null };
var dialog = document.getElementById('confirm');

function confirmRevoke(title, text) {
  return new Promise(function (resolve) {
    document.getElementById('confirm-title').textContent = title;
    document.getElementById('confirm-text').textContent = text;
    document.getElementById('confirm-yes').textContent = title.replace(/\\?$/, '');
    dialog.returnValue = '';
    dialog.addEventListener('close', function onClose() {
      dialog.removeEventListener('close', onClose);
      resolve(dialog.returnValue === 'confirm');
    });
    dialog.showModal();
  });
}

function deviceName(deviceId) {
  var device = current.devices[deviceId];
  if (!device) return short(deviceId);
  return device.name || [device.browser, device.os].filter(Boolean).join(' on ') || short(deviceId);
}

function sessionRow(session) {
  var actions = el('td');
  if (session.state === 'live') {
    var button = el('button', { type: 'button', class: 'danger small', 'aria-label': 'Revoke session ' + session.id, text: 'Revoke' });
    button.addEventListener('click', function () { revokeOne(session, button); });
    actions.appendChild(button);
  }
  return el('tr', { 'data-session-id': session.id }, [
    el('th', { scope: 'row' }, [el('code', { title: session.id, text: short(session.id) })]),
    cell(deviceName(session.device_id)),
    cell(session.ip || '–'),
    el('td', { class: 'ua', text: session.user_agent || '–' }),
    cell(place(session.location)),
    cell(time(session.created_at)),
    cell(time(session.last_activity_at)),
    el('td', {}, [el('span', { class: 'badge ' + session.state, text: session.state + (session.end_reason ? ' (' + session.end_reason + ')' : '') })]),
    actions,
  ]);
}

function deviceRow(device) {
  return el('tr', {}, [
    cell(device.name || short(device.id), true),
    cell(device.device_type || 'unknown'),
    cell([device.browser, device.os].filter(Boolean).join(' on ') || '–'),
    cell(device.last_ip || '–'),
    cell(place(device.location)),
    cell(device.trusted ? 'yes' : 'no'),
    cell(time(device.first_seen_at)),
    cell(time(device.last_seen_at)),
  ]);
}

function loadDevices(append) {
  var user = current.user;
  var query = '?limit=100' + (append && current.devicesCursor ? '&cursor=' + encodeURIComponent(current.devicesCursor) : '');
  return api('/users/' + encodeURIComponent(user.id) + '/devices' + query).then(function (page) {
    page.devices.forEach(function (device) { current.devices[device.id] = device; });
    var tbody = document.querySelector('#devices-table tbody');
    var rows = page.devices.map(deviceRow);
    if (append) rows.forEach(function (row) { tbody.appendChild(row); });
    else replaceRows(tbody, rows, 8, 'No devices.');
    current.devicesCursor = page.next_cursor;
    document.getElementById('devices-more').hidden = !page.next_cursor;
  });
}

function loadSessions(append) {
  var user = current.user;
  var state = document.getElementById('include-ended').checked ? 'all' : 'live';
  var query = '?limit=100&state=' + state + (append && current.sessionsCursor ? '&cursor=' + encodeURIComponent(current.sessionsCursor) : '');
  return api('/users/' + encodeURIComponent(user.id) + '/sessions' + query).then(function (page) {
    var tbody = document.querySelector('#sessions-table tbody');
    var rows = page.sessions.map(sessionRow);
    if (append) rows.forEach(function (row) { tbody.appendChild(row); });
    else replaceRows(tbody, rows, 9, state === 'live' ? 'No live sessions.' : 'No sessions.');
    current.sessionsCursor = page.next_cursor;
    document.getElementById('sessions-more').hidden = !page.next_cursor;
    document.querySelector('#sessions-table caption').textContent =
      (state === 'live' ? 'Live sessions of ' : 'Sessions of ') + (user.email || user.id);
    document.getElementById('revoke-all').disabled = state === 'live' && page.sessions.length === 0;
  });
}

function showUser(user) {
  current.user = user;
  current.devices = {};
  document.getElementById('user-detail').hidden = false;
  var title = document.getElementById('user-title');
  title.textContent = user.email || user.id;
  document.getElementById('user-meta').textContent = 'User id ' + user.id + ' · created ' + time(user.created_at) + ' · matched by ' + user.matched_by;
  return loadDevices(false).then(function () { return loadSessions(false); }).then(function () {
    title.focus();
  });
}

function revokeOne(session, button) {
  confirmRevoke('Revoke session?', 'Session ' + session.id + ' on ' + deviceName(session.device_id) + ' ends now; its sockets close and its tokens stop working.').then(function (yes) {
    if (!yes) { button.focus(); return; }
    return api('/sessions/' + encodeURIComponent(session.id) + '/revoke', { method: 'POST' }).then(function (result) {
      say(result.revoked ? 'Session ' + session.id + ' revoked.' : 'Session ' + session.id + ' had already ended.');
      return loadSessions(false).then(function () { document.getElementById('user-title').focus(); });
    });
  }).catch(function (error) { say('Revoke failed: ' + error.message); });
}

document.getElementById('revoke-all').addEventListener('click', function () {
  var user = current.user;
  if (!user) return;
  confirmRevoke('Revoke all sessions?', 'Every live session of ' + (user.email || user.id) + ' ends now, on every device.').then(function (yes) {
    if (!yes) { document.getElementById('revoke-all').focus(); return; }
    return api('/users/' + encodeURIComponent(user.id) + '/revoke-all', { method: 'POST' }).then(function (result) {
      say(result.revoked + (result.revoked === 1 ? ' session' : ' sessions') + ' revoked.');
      return loadSessions(false).then(function () { document.getElementById('user-title').focus(); });
    });
  }).catch(function (error) { say('Revoke failed: ' + error.message); });
});

document.getElementById('include-ended').addEventListener('change', function () { loadSessions(false); });
document.getElementById('sessions-more').addEventListener('click', function () { loadSessions(true); });
document.getElementById('devices-more').addEventListener('click', function () { loadDevices(true); });

document.getElementById('lookup').addEventListener('submit', function (event) {
  event.preventDefault();
  var q = document.getElementById('lookup-q').value.trim();
  var results = document.getElementById('lookup-results');
  if (!q) return;
  api('/users/lookup?q=' + encodeURIComponent(q)).then(function (body) {
    results.textContent = '';
    if (body.users.length === 0) {
      document.getElementById('user-detail').hidden = true;
      results.appendChild(el('p', { class: 'notice', text: 'No user matches ' + q + '.' }));
      return;
    }
    if (body.users.length === 1) {
      results.appendChild(el('p', { class: 'muted', text: '1 user found.' }));
      return showUser(body.users[0]);
    }
    var list = el('ul', { class: 'matches', 'aria-label': 'Matching users' });
    body.users.forEach(function (user) {
      var button = el('button', { type: 'button', class: 'link', text: (user.email || user.id) + ' (matched by ' + user.matched_by + ')' });
      button.addEventListener('click', function () { showUser(user); });
      list.appendChild(el('li', {}, [button]));
    });
    results.appendChild(el('p', { class: 'muted', text: body.users.length + ' users found.' }));
    results.appendChild(list);
  }).catch(function (error) { say('Lookup failed: ' + error.message); });
});

// ---- Audit log: filters and keyset paging (a stack of cursors for Previous) ----
var logs = { cursors: [null], filter: '' };

function logFilter() {
  var form = document.getElementById('log-filters');
  var params = new URLSearchParams();
  ['user_id', 'action', 'ip'].forEach(function (name) {
    var value = form.elements[name].value.trim();
    if (value) params.set(name, value);
  });
  ['from', 'to'].forEach(function (name) {
    var value = form.elements[name].value;
    if (value) params.set(name, (value.length === 16 ? value + ':00' : value) + 'Z');
  });
  return params;
}

function loadLogs() {
  var params = new URLSearchParams(logs.filter);
  params.set('limit', '50');
  var cursor = logs.cursors[logs.cursors.length - 1];
  if (cursor) params.set('cursor', cursor);
  return api('/logs?' + params.toString()).then(function (page) {
    var rows = page.logs.map(function (log) {
      return el('tr', { 'data-log-id': String(log.id) }, [
        cell(time(log.created_at)),
        cell(log.action),
        el('td', {}, [el('span', { class: 'badge ' + (log.success ? 'live' : 'ended'), text: log.success ? 'ok' : (log.error || 'failed') })]),
        el('td', {}, [el('code', { title: log.user_id || '', text: short(log.user_id) })]),
        cell(log.ip || '–'),
        el('td', { class: 'ua', text: log.user_agent || '–' }),
        el('td', {}, [el('code', { title: log.session_id || '', text: short(log.session_id) })]),
      ]);
    });
    replaceRows(document.querySelector('#log-table tbody'), rows, 7, 'No entries match.');
    logs.next = page.next_cursor;
    document.getElementById('logs-next').disabled = !page.next_cursor;
    document.getElementById('logs-prev').disabled = logs.cursors.length <= 1;
    document.getElementById('logs-page').textContent = 'Page ' + logs.cursors.length + ' · ' + page.logs.length + ' entries';
  }).catch(function (error) { say('Audit log: ' + error.message); });
}

document.getElementById('log-filters').addEventListener('submit', function (event) {
  event.preventDefault();
  logs.filter = logFilter().toString();
  logs.cursors = [null];
  loadLogs();
});
document.getElementById('log-filters').addEventListener('reset', function () {
  logs.filter = '';
  logs.cursors = [null];
  window.setTimeout(loadLogs, 0);
});
document.getElementById('logs-next').addEventListener('click', function () {
  if (!logs.next) return;
  logs.cursors.push(logs.next);
  loadLogs();
});
document.getElementById('logs-prev').addEventListener('click', function () {
  if (logs.cursors.length <= 1) return;
  logs.cursors.pop();
  loadLogs();
});

// ---- Analytics: SVG bar charts with a data table each ----
function figureParts(id) {
  var figure = document.getElementById(id);
  return { plot: figure.querySelector('[data-plot]'), rows: figure.querySelector('[data-rows]'), title: figure.querySelector('h3').textContent };
}

function niceMax(value) {
  if (value <= 0) return 1;
  var power = Math.pow(10, Math.floor(Math.log10(value)));
  var steps = [1, 2, 2.5, 5, 10];
  for (var i = 0; i < steps.length; i += 1) if (steps[i] * power >= value) return steps[i] * power;
  return 10 * power;
}

/** Vertical bars per day, two series side by side. */
function dayChart(id, days) {
  var parts = figureParts(id);
  var width = 640, height = 220, left = 36, bottom = 28, top = 10;
  var max = niceMax(Math.max.apply(null, days.map(function (d) { return Math.max(d.logins, d.failed_logins); }).concat([0])));
  var slot = (width - left - 8) / Math.max(1, days.length);
  var barWidth = Math.max(1, slot / 2 - 1);
  var scale = function (v) { return (height - bottom - top) * (v / max); };
  var totalLogins = 0, totalFailed = 0;
  var children = [svg('title', { text: parts.title })];
  [0, 0.5, 1].forEach(function (f) {
    var y = height - bottom - (height - bottom - top) * f;
    children.push(svg('line', { x1: left, x2: width - 4, y1: y, y2: y, class: 'grid' }));
    children.push(svg('text', { x: left - 4, y: y + 4, 'text-anchor': 'end', class: 'axis', text: String(Math.round(max * f * 10) / 10) }));
  });
  days.forEach(function (day, i) {
    totalLogins += day.logins; totalFailed += day.failed_logins;
    var x = left + i * slot;
    children.push(svg('rect', { class: 'bar s1', 'data-series': 'logins', 'data-value': day.logins, x: x, y: height - bottom - scale(day.logins), width: barWidth, height: scale(day.logins) }, [svg('title', { text: day.date + ': ' + day.logins + ' sign-ins' })]));
    children.push(svg('rect', { class: 'bar s2', 'data-series': 'failed_logins', 'data-value': day.failed_logins, x: x + barWidth + 1, y: height - bottom - scale(day.failed_logins), width: barWidth, height: scale(day.failed_logins) }, [svg('title', { text: day.date + ': ' + day.failed_logins + ' failed' })]));
    if (i % Math.ceil(days.length / 6) === 0 || i === days.length - 1) {
      children.push(svg('text', { x: x + barWidth, y: height - bottom + 16, 'text-anchor': 'middle', class: 'axis', text: day.date.slice(5) }));
    }
  });
  var label = parts.title + ': ' + totalLogins + ' sign-ins and ' + totalFailed + ' failed over ' + days.length + ' days.';
  parts.plot.textContent = '';
  parts.plot.appendChild(svg('svg', { viewBox: '0 0 ' + width + ' ' + height, role: 'img', 'aria-label': label }, children));
  parts.plot.appendChild(el('p', { class: 'legend' }, [el('span', { class: 'key s1' }), document.createTextNode(' Sign-ins '), el('span', { class: 'key s2' }), document.createTextNode(' Failed')]));
  replaceRows(parts.rows, days.map(function (d) { return el('tr', {}, [cell(d.date, true), cell(String(d.logins)), cell(String(d.failed_logins))]); }), 3, 'No days.');
}

/** Horizontal bars, one per entry: [{label, value, note}]. */
function barChart(id, entries, unit, tableRows, columns) {
  var parts = figureParts(id);
  parts.plot.textContent = '';
  if (entries.length === 0) {
    parts.plot.appendChild(el('p', { class: 'muted', text: 'No data in this period.' }));
    replaceRows(parts.rows, [], columns, 'No data.');
    return;
  }
  var width = 640, row = 26, left = 210, height = entries.length * row + 8;
  var max = niceMax(Math.max.apply(null, entries.map(function (e) { return e.value; })));
  var children = [svg('title', { text: parts.title })];
  entries.forEach(function (entry, i) {
    var y = 4 + i * row;
    var w = Math.max(entry.value > 0 ? 2 : 0, (width - left - 80) * (entry.value / max));
    var name = entry.label.length > 24 ? entry.label.slice(0, 23) + '…' : entry.label;
    var units = entry.value === 1 ? unit.replace(/s$/, '') : unit;
    children.push(svg('text', { x: left - 8, y: y + 16, 'text-anchor': 'end', class: 'label', text: name }));
    children.push(svg('rect', { class: 'bar s1', 'data-value': entry.value, x: left, y: y + 3, width: w, height: row - 8 }, [svg('title', { text: entry.label + ': ' + entry.value + ' ' + unit })]));
    children.push(svg('text', { x: left + w + 6, y: y + 16, class: 'value', text: entry.value + ' ' + units }));
  });
  var label = parts.title + ': ' + entries.map(function (e) { return e.label + ' ' + e.value + ' ' + unit; }).join(', ') + '.';
  parts.plot.appendChild(svg('svg', { viewBox: '0 0 ' + width + ' ' + height, role: 'img', 'aria-label': label }, children));
  replaceRows(parts.rows, tableRows, columns, 'No data.');
}

function loadAnalytics() {
  return Promise.all([
    api('/analytics/logins-per-day').then(function (r) { dayChart('chart-logins', r.days); }),
    api('/analytics/active-by-device').then(function (r) {
      barChart('chart-devices', r.device_types.map(function (d) { return { label: d.device_type, value: d.sessions }; }), 'sessions',
        r.device_types.map(function (d) { return el('tr', {}, [cell(d.device_type, true), cell(String(d.sessions))]); }), 2);
    }),
    api('/analytics/session-duration').then(function (r) {
      barChart('chart-duration', r.reasons.map(function (d) { return { label: d.reason + ' (' + d.sessions + ')', value: d.average_seconds }; }), 's',
        r.reasons.map(function (d) { return el('tr', {}, [cell(d.reason, true), cell(String(d.sessions)), cell(String(d.average_seconds))]); }), 3);
    }),
    api('/analytics/failed-logins').then(function (r) {
      barChart('chart-failed', r.users.map(function (d) { return { label: d.email || d.user_id, value: d.failed_logins }; }), 'failed',
        r.users.map(function (d) { return el('tr', {}, [cell(d.email || d.user_id, true), cell(String(d.failed_logins)), cell(time(d.last_failed_at))]); }), 3);
    }),
    api('/analytics/suspicious-ips').then(function (r) {
      barChart('chart-ips', r.ips.map(function (d) { return { label: d.ip, value: d.attempts }; }), 'attempts',
        r.ips.map(function (d) { return el('tr', {}, [cell(d.ip, true), cell(String(d.attempts)), cell(String(d.failed)), cell(String(d.users))]); }), 4);
    }),
  ]).catch(function (error) { say('Analytics: ' + error.message); });
}

// ---- Live health over server-sent events ----
function ms(value) {
  return value === null || value === undefined ? '–' : value + ' ms';
}

function showHealth(h) {
  var set = function (id, text, note) {
    var node = document.getElementById(id);
    node.textContent = text;
    if (note) node.appendChild(el('span', { class: 'note', text: note }));
  };
  set('h-rate', String(h.requests_per_second));
  set('h-refresh-count', String(h.refresh.count));
  set('h-refresh-p50', ms(h.refresh.p50_ms));
  set('h-refresh-p99', ms(h.refresh.p99_ms));
  set('h-failures', String(h.refresh_failures.window), h.refresh_failures.total + ' since start');
  set('h-reuse', String(h.reuse_detections.window), h.reuse_detections.total + ' since start');
  set('h-stepups', h.step_ups.required + ' / ' + h.step_ups.completed);
  set('h-revocation', ms(h.revocation_to_socket.p50_ms) + ' / ' + ms(h.revocation_to_socket.p99_ms));
  set('h-sockets', String(h.sockets));
  set('h-backlog', String(h.webhook_backlog));
  set('health-updated', 'updated ' + time(h.at) + ' UTC');
  var reasons = Object.keys(h.refresh_failures.by_reason).sort();
  replaceRows(document.querySelector('#failures-table tbody'), reasons.map(function (reason) {
    return el('tr', {}, [cell(reason, true), cell(String(h.refresh_failures.by_reason[reason]))]);
  }), 2, 'None.');
}

function connectHealth() {
  var state = document.getElementById('health-state');
  var stream = new EventSource('/admin/api/health/stream');
  var live = false;
  stream.addEventListener('health', function (event) {
    if (!live) { live = true; state.textContent = 'Live'; state.className = 'live-dot'; }
    showHealth(JSON.parse(event.data));
  });
  stream.addEventListener('error', function () {
    if (live) { live = false; state.textContent = 'Reconnecting…'; state.className = ''; }
  });
}

connectHealth();
// For tests and the bench: set once the first page of the log and every chart are drawn.
Promise.all([loadLogs(), loadAnalytics()]).then(function () {
  document.documentElement.setAttribute('data-ready', 'true');
});
`;
