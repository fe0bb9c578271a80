// The AOS sandbox viewer: plain JavaScript, no framework, no build step.
// What a message or a request brings is put into this page as text (textContent, attributes),
// never as markup. A message's HTML is shown only in the sandboxed iframe, which loads it from
// the sandbox with a policy of its own (no script; remote images only when asked).
'use strict';

const api = '/_sandbox';
const $ = id => document.getElementById(id);
const pollMs = 1500;

const state = {
  view: 'mail',
  folder: null,      // URL of the folder shown
  message: null,     // URL of the message shown
  detail: null,      // its JSON
  tab: 'html',
  query: '',
  changes: null,     // last /_sandbox/changes answer
  openRequests: new Set(),
};

// ---- small helpers ----

/** An element with attributes (text: its text; on*: listeners) and children (strings become text). */
function el(tag, props, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(props || {})) {
    if (value === undefined || value === null || value === false) continue;
    if (key === 'class') node.className = value;
    else if (key === 'text') node.textContent = value;
    else if (key.startsWith('on')) node.addEventListener(key.slice(2), value);
    else node.setAttribute(key, value === true ? '' : String(value));
  }
  node.append(...children.filter(child => child !== null && child !== undefined));
  return node;
}

async function getJson(url) {
  const response = await fetch(url, { cache: 'no-store' });
  if (!response.ok) throw new Error(`${response.status} ${response.statusText}: ${url}`);
  return response.json();
}

async function call(method, url, body) {
  const response = await fetch(url, {
    method,
    headers: body ? { 'Content-Type': 'application/json' } : {},
    body: body ? JSON.stringify(body) : undefined,
  });
  if (!response.ok) {
    let message = `${response.status} ${response.statusText}`;
    try { message = (await response.json()).error || message; } catch { /* not JSON */ }
    throw new Error(message);
  }
}

function report(error) {
  $('status').textContent = error.message;
}

function formatSize(bytes) {
  if (bytes < 1024) return `${bytes} B`;
  if (bytes < 1024 * 1024) return `${(bytes / 1024).toFixed(1)} KB`;
  return `${(bytes / 1024 / 1024).toFixed(1)} MB`;
}

function formatDate(iso) {
  const date = new Date(iso);
  return date.toDateString() === new Date().toDateString()
    ? date.toLocaleTimeString()
    : date.toLocaleString([], { dateStyle: 'short', timeStyle: 'short' });
}

/** A recorded request's fields in wire order: mheader split into its lines, body by its length. */
function fieldTable(table, fields) {
  const rows = fields.map((field, index) => {
    const name = field.name.toLowerCase();
    let value;
    if (name === 'mheader') {
      value = el('ul', { class: 'lines' }, ...field.value.split(/\r\n|\n/).map(line => el('li', { text: line })));
    } else if (name === 'body') {
      const cut = field.value.length < field.length ? ` (the log keeps the first ${field.value.length})` : '';
      value = el('details', {}, el('summary', { text: `${field.length} character${field.length === 1 ? '' : 's'}` }),
        el('pre', { text: field.value + (cut ? `\n…${cut}` : '') }));
    } else {
      value = field.value;
    }
    return el('tr', {}, el('td', { text: String(index + 1) }), el('td', { class: 'name', text: field.name }), el('td', {}, value));
  });
  table.replaceChildren(el('thead', {}, el('tr', {}, el('th', { text: '#' }), el('th', { text: 'Field' }), el('th', { text: 'Value' }))),
    el('tbody', {}, ...rows));
}

// ---- mail: folders, list, message ----

async function loadFolders() {
  const tree = await getJson(`${api}/mail`);
  state.folder ??= tree.spool.url;  // at first: everything sent, from every account
  const button = (folder, label) => el('button', {
    type: 'button', 'data-url': folder.url, 'aria-current': String(folder.url === state.folder),
    onclick: () => selectFolder(folder.url).catch(report),
  }, label, el('span', {
    class: 'count',
    title: folder.unread ? `${folder.unread} new of ${folder.count}` : `${folder.count} messages`,
    text: folder.unread ? `${folder.unread}/${folder.count}` : String(folder.count),
  }));
  const items = [el('h3', { text: 'Sent (every account)' }), button(tree.spool, 'Spool')];
  for (const account of tree.accounts) {
    items.push(el('h3', { text: account.address, title: account.fullName }));
    for (const box of account.mailboxes) items.push(button(box, box.name));
  }
  $('folders').replaceChildren(...items);
}

async function selectFolder(url) {
  state.folder = url;
  for (const button of $('folders').querySelectorAll('button')) {
    button.setAttribute('aria-current', String(button.dataset.url === url));
  }
  showMessage(null);
  await loadList();
}

async function loadList() {
  const query = state.query ? `&q=${encodeURIComponent(state.query)}` : '';
  const list = await getJson(`${state.folder}?limit=200${query}`);
  const rows = list.messages.map(m => el('tr', {
    tabindex: '0', 'data-url': m.url, 'data-id': m.id, class: m.read === false ? 'new' : null,
    'aria-selected': String(m.url === state.message),
    onclick: () => openMessage(m.url, true).catch(report),
    onkeydown: listKey,
  },
  el('td', { class: 'flag' }, m.read === false ? el('span', { class: 'dot', title: 'New: not read through rdmail yet' }, el('span', { class: 'sr', text: 'New' })) : null),
  el('td', { class: 'who' }, el('div', { text: m.from, title: m.from }), el('div', { class: 'muted', text: `to ${m.to}`, title: m.to })),
  el('td', { class: 'subject', text: m.subject || '(no subject)', title: m.subject }),
  el('td', { class: 'when' }, el('div', { text: formatDate(m.date), title: new Date(m.date).toString() }), el('div', { class: 'muted', text: formatSize(m.size) })),
  el('td', { class: 'att', text: m.attachments ? String(m.attachments) : '', title: m.attachments ? `${m.attachments} attachment(s)` : null })));
  $('list').tBodies[0].replaceChildren(...rows);
  const shown = list.total > list.messages.length ? `, the newest ${list.messages.length} shown` : '';
  $('list-info').textContent = list.total === 0
    ? (state.query ? 'No message matches.' : 'No messages yet.')
    : `${list.total} message${list.total === 1 ? '' : 's'}${state.query ? ' match' : ''}${shown}`;
}

function listKey(event) {
  const row = event.currentTarget;
  let target = null;
  const opened = event.key === 'Enter' || event.key === ' ';
  if (opened) target = row;
  else if (event.key === 'ArrowDown') target = row.nextElementSibling;
  else if (event.key === 'ArrowUp') target = row.previousElementSibling;
  if (!target) return;
  event.preventDefault();
  target.focus();
  openMessage(target.dataset.url, opened).catch(report);
}

/** Shows a message; reveal: in a narrow window, where it sits below the list, scroll to it. */
async function openMessage(url, reveal) {
  state.message = url;
  for (const row of $('list').tBodies[0].rows) row.setAttribute('aria-selected', String(row.dataset.url === url));
  const detail = await getJson(url);
  if (state.message !== url) return;
  showMessage(detail);
  if (reveal && matchMedia('(max-width: 900px)').matches) $('message-pane').scrollIntoView();
}

function showMessage(detail) {
  state.detail = detail;
  if (!detail) state.message = null;
  $('message').hidden = !detail;
  $('message-empty').hidden = !!detail;
  if (!detail) {
    $('html-frame').removeAttribute('src');
    return;
  }
  $('m-subject').textContent = detail.subject || '(no subject)';
  const meta = [['From', detail.from], ['To', detail.to], ['Cc', detail.cc],
    ['Envelope', detail.envelope && `${detail.envelope.from} to ${detail.envelope.recipients.join(', ')}`],
    ['Date', new Date(detail.date).toString()], ['Size', `${formatSize(detail.size)} (${detail.size} bytes)`],
    ['Folder', detail.folder], ['Id', detail.id]];
  $('m-meta').replaceChildren(...meta.filter(([, value]) => value).flatMap(([name, value]) => [el('dt', { text: name }), el('dd', { text: value })]));
  $('tab-html').disabled = !detail.html;
  $('tab-attachments').textContent = `Attachments (${detail.attachments.length})`;
  $('tab-checks').textContent = `Checks (${detail.checks.findings.length})`;
  // The frame keeps its document until the HTML tab shows another one (showHtml), so opening the
  // same message again does not reload it.
  showTab(state.tab === 'html' && !detail.html ? 'text' : state.tab);
}

function showTab(tab) {
  state.tab = tab;
  for (const button of $('tabs').querySelectorAll('[role="tab"]')) {
    const selected = button.dataset.tab === tab;
    button.setAttribute('aria-selected', String(selected));
    button.tabIndex = selected ? 0 : -1;
    $(`panel-${button.dataset.tab}`).hidden = !selected;
  }
  const detail = state.detail;
  if (tab === 'html') showHtml();
  else if (tab === 'text') $('text').textContent = detail.text ?? '(This message has no text part.)';
  else if (tab === 'headers') {
    $('headers').replaceChildren(...detail.headers.map(h => el('tr', {}, el('td', { class: 'name', text: h.name }), el('td', { text: h.value }))));
  } else if (tab === 'attachments') showAttachments(detail);
  else if (tab === 'raw') showRaw(detail).catch(report);
  else if (tab === 'sent') showSent(detail);
  else if (tab === 'checks') showChecks(detail);
}

function showHtml() {
  const detail = state.detail;
  if (!detail.html) return;
  const src = detail.html + ($('remote-images').checked ? '?remote=true' : '');
  if ($('html-frame').getAttribute('src') !== src) $('html-frame').setAttribute('src', src);
}

function showAttachments(detail) {
  const items = detail.attachments.map(a => el('li', {},
    a.contentType.startsWith('image/') ? el('img', { src: `${a.url}?inline=true`, alt: a.fileName || 'inline image' }) : null,
    el('a', { href: a.url, download: a.fileName || '' , text: a.fileName || `part ${a.index}` }),
    el('span', { class: 'muted', text: `${a.contentType}, ${formatSize(a.size)}${a.inline ? ', inline' : ''}${a.contentId ? `, cid:${a.contentId}` : ''}` })));
  $('attachments').replaceChildren(...(items.length ? items : [el('li', { class: 'muted', text: 'No attachments.' })]));
}

const rawShownBytes = 1024 * 1024;

async function showRaw(detail) {
  $('raw-download').href = `${detail.raw}?download=true`;
  const response = await fetch(detail.raw, { headers: { Range: `bytes=0-${rawShownBytes - 1}` }, cache: 'no-store' });
  const text = await response.text();
  if (state.detail !== detail) return;
  $('raw').textContent = text;
  $('raw-info').textContent = detail.size > rawShownBytes
    ? `The first ${formatSize(rawShownBytes)} of ${formatSize(detail.size)}.`
    : `${detail.size} bytes, as stored.`;
}

function showSent(detail) {
  const r = detail.request;
  if (!r) {
    $('sent-info').textContent = 'The request that made this message is no longer in the request log (the log was cleared, or the sandbox restarted).';
    $('sent').replaceChildren();
    return;
  }
  $('sent-info').textContent = `Request #${r.seq}: ${r.method} ${r.path} from ${r.user ?? 'an unknown user'} at ${new Date(r.time).toLocaleString()}, `
    + `answered ${r.status} ${r.outcome}${r.fault ? ` (fault: ${r.fault})` : ''} in ${r.durationMs.toFixed(1)} ms on connection ${r.connectionId}. `
    + 'Fields in the order they were sent; secrets masked.';
  fieldTable($('sent'), r.fields);
}

function showChecks(detail) {
  const checks = detail.checks;
  const errors = checks.findings.filter(f => f.severity === 'error').length;
  const warnings = checks.findings.length - errors;
  $('checks-info').textContent = (checks.findings.length
    ? `${errors} error${errors === 1 ? '' : 's'} and ${warnings} warning${warnings === 1 ? '' : 's'} by the sandbox's RFC rules (docs/sandbox.md); lines count from 1 in the stored message.`
    : 'No findings: the message passes every rule of the sandbox\'s RFC judge (docs/sandbox.md).')
    + (checks.judged === 'opened' ? ' Judged when opened: this message did not arrive through sdmailact.' : '')
    + (checks.mark ? ` A test marked it as deliberately bad: ${checks.mark}` : '');
  const rows = checks.findings.map(f => el('tr', { class: f.severity },
    el('td', { class: 'severity', text: f.severity }), el('td', { class: 'name', text: f.rule }),
    el('td', { text: String(f.line) }), el('td', { text: String(f.count) }), el('td', { text: f.detail })));
  $('checks').replaceChildren(
    el('thead', {}, el('tr', {}, ...['Severity', 'Rule', 'Line', 'Times', 'Detail'].map(name => el('th', { text: name })))),
    el('tbody', {}, ...rows));
}

function tabKey(event) {
  const tabs = [...$('tabs').querySelectorAll('[role="tab"]:not(:disabled)')];
  const index = tabs.indexOf(document.activeElement);
  let next = null;
  if (event.key === 'ArrowRight') next = tabs[(index + 1) % tabs.length];
  else if (event.key === 'ArrowLeft') next = tabs[(index - 1 + tabs.length) % tabs.length];
  else if (event.key === 'Home') next = tabs[0];
  else if (event.key === 'End') next = tabs[tabs.length - 1];
  if (!next) return;
  event.preventDefault();
  next.focus();
  showTab(next.dataset.tab);
}

// ---- requests and faults ----

async function loadLog() {
  const [requests, faults] = await Promise.all([getJson(`${api}/requests?last=100`), getJson(`${api}/faults`)]);
  const rows = [];
  for (const r of requests.reverse()) {
    const bad = r.status !== 200 || r.outcome.startsWith('false') || r.outcome.startsWith('fault') || r.outcome === 'dropped';
    const toggle = () => {
      if (state.openRequests.has(r.seq)) state.openRequests.delete(r.seq); else state.openRequests.add(r.seq);
      loadLog().catch(report);
    };
    rows.push(el('tr', {
      class: 'request', tabindex: '0', 'data-seq': r.seq, 'aria-expanded': String(state.openRequests.has(r.seq)),
      onclick: toggle,
      onkeydown: event => { if (event.key === 'Enter' || event.key === ' ') { event.preventDefault(); toggle(); } },
    },
    el('td', { text: String(r.seq) }), el('td', { text: new Date(r.time).toLocaleTimeString() }), el('td', { text: r.user ?? '' }),
    el('td', { text: r.command ?? r.path }), el('td', { text: r.status ? String(r.status) : 'none' }),
    el('td', { class: bad ? 'outcome-bad' : null, text: r.outcome }), el('td', { text: r.fault ?? '' }),
    el('td', { text: r.durationMs.toFixed(1) }), el('td', { text: r.connectionId ?? '' })));
    if (state.openRequests.has(r.seq)) {
      const fields = el('table', { class: 'grid' });
      fieldTable(fields, r.fields);
      rows.push(el('tr', { class: 'detail' }, el('td', { colspan: '9' },
        el('p', { class: 'muted', text: `${r.method} ${r.path}, ${r.contentType ?? 'no content type'}, ${r.contentLength ?? 0} bytes${r.messageId ? `, stored message ${r.messageId}` : ''}` }),
        fields)));
    }
  }
  $('requests').tBodies[0].replaceChildren(...rows);

  const faultRows = faults.map(f => el('tr', {}, el('td', { class: 'name', text: f.command }), el('td', { text: f.action }),
    el('td', { text: faultDetails(f) }), el('td', { text: `${f.remaining} more` })));
  $('faults').replaceChildren(el('thead', {}, el('tr', {}, ...['Command', 'Action', 'Details', 'Fires'].map(t => el('th', { text: t })))),
    el('tbody', {}, ...(faultRows.length ? faultRows : [el('tr', {}, el('td', { colspan: '4', class: 'muted', text: 'No fault queued: the sandbox behaves.' }))])));
}

function faultDetails(f) {
  switch (f.action) {
    case 'status': return `HTTP ${f.status}, body "${f.text}"`;
    case 'text': return `body "${f.text}"`;
    case 'delay': return `${f.delayMs} ms`;
    case 'redirect': return `to ${f.location}`;
    default: return '';
  }
}

async function addFault(event) {
  event.preventDefault();
  const action = $('f-action').value;
  const body = { command: $('f-command').value, action, times: Number($('f-times').value) || 1 };
  if (action === 'status') Object.assign(body, { status: Number($('f-status').value), text: $('f-text').value });
  if (action === 'text') body.text = $('f-text').value;
  if (action === 'delay') body.delayMs = Number($('f-delay').value);
  if (action === 'redirect') body.location = $('f-location').value;
  $('fault-error').textContent = '';
  try {
    await call('POST', `${api}/faults`, body);
  } catch (error) {
    $('fault-error').textContent = error.message;
  }
  await loadLog();
}

// ---- views, live updates, keys ----

async function showView() {
  state.view = location.hash === '#log' ? 'log' : 'mail';
  $('mail-view').hidden = state.view !== 'mail';
  $('log-view').hidden = state.view !== 'log';
  for (const [view, link] of [['mail', $('nav-mail')], ['log', $('nav-log')]]) {
    if (view === state.view) link.setAttribute('aria-current', 'page'); else link.removeAttribute('aria-current');
  }
  if (state.view === 'mail') {
    await loadFolders();
    await loadList();
  } else {
    await loadLog();
  }
}

// Asks the sandbox every pollMs whether mail or the request log changed, and reloads what is shown.
async function poll() {
  try {
    const changes = await getJson(`${api}/changes`);
    const before = state.changes;
    state.changes = changes;
    $('status').textContent = 'Live';
    if (before && state.view === 'mail' && changes.mail !== before.mail) {
      await loadFolders();
      await loadList();
    }
    if (before && state.view === 'log' && changes.requests !== before.requests) await loadLog();
  } catch (error) {
    $('status').textContent = `Sandbox not reachable (${error.message})`;
  } finally {
    setTimeout(poll, pollMs);
  }
}

let searchTimer = 0;

function start() {
  $('search').addEventListener('input', () => {
    clearTimeout(searchTimer);
    searchTimer = setTimeout(() => {
      state.query = $('search').value.trim();
      loadList().catch(report);
    }, 250);
  });
  $('search').addEventListener('keydown', event => {
    if (event.key === 'Escape') { $('search').value = ''; state.query = ''; loadList().catch(report); }
    if (event.key === 'ArrowDown') { event.preventDefault(); $('list').tBodies[0].rows[0]?.focus(); }
  });
  document.addEventListener('keydown', event => {
    if (event.key === '/' && !['INPUT', 'SELECT', 'TEXTAREA'].includes(document.activeElement.tagName)) {
      event.preventDefault();
      $('search').focus();
    }
  });
  $('tabs').addEventListener('click', event => {
    const tab = event.target.closest('[role="tab"]');
    if (tab && !tab.disabled) showTab(tab.dataset.tab);
  });
  $('tabs').addEventListener('keydown', tabKey);
  $('remote-images').addEventListener('change', showHtml);
  $('fault-form').addEventListener('submit', event => addFault(event).catch(report));
  $('f-clear').addEventListener('click', () => call('DELETE', `${api}/faults`).then(loadLog).catch(report));
  $('log-clear').addEventListener('click', () => call('DELETE', `${api}/requests`).then(loadLog).catch(report));
  window.addEventListener('hashchange', () => showView().catch(report));
  showView().catch(report);
  poll();
}

start();
