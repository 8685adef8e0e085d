// audit.js — the auditor's audit log view: the node's audit records,
// filtered by actor, action, object and time (GET /api/v1/audit with the
// same filters as `liaison audit show`), newest page last, in a table.
// Only shown to auditors (the node refuses anyone else anyway); each
// reading is itself recorded on the node.
import { h, fill } from '../dom.js';
import { plainWords } from '../api.js';
import { t } from '../i18n.js';

const PAGE = 1000;

function dialog() {
  let d = document.getElementById('audit-dialog');
  if (!d) {
    d = h('dialog', { id: 'audit-dialog', class: 'detail audit', 'aria-labelledby': 'audit-title' });
    document.body.append(d);
  }
  return d;
}

/** A datetime-local field's value as Unix milliseconds ('' when empty). */
function millis(value) {
  const ms = value ? new Date(value).getTime() : NaN;
  return Number.isFinite(ms) && ms >= 0 ? String(ms) : '';
}

function query(form) {
  const q = new URLSearchParams({ limit: String(PAGE) });
  for (const k of ['actor', 'action', 'object']) {
    const v = form.elements[k].value.trim();
    if (v) q.set(k, v);
  }
  const since = millis(form.elements.since.value);
  const until = millis(form.elements.until.value);
  if (since) q.set('since', since);
  if (until) q.set('until', until);
  return q;
}

async function load(state, form, status, body) {
  status.textContent = t('audit.loading');
  let records = [];
  try {
    records = (await state.api.request('GET', `/api/v1/audit?${query(form)}`))?.records || [];
    status.textContent = records.length ? t('audit.count', records.length) : t('audit.none');
  } catch (e) {
    status.textContent = plainWords(e);
  }
  const when = (ms) => new Date(ms).toISOString().replace('.000Z', 'Z');
  fill(body, records.map((r) => h('tr', { dataset: { seq: String(r.seq), action: r.action } },
    h('td', {}, String(r.seq)),
    h('td', {}, when(r.time)),
    h('td', {}, r.actor),
    h('td', { class: 'audit-action' }, r.action),
    h('td', {}, r.object),
    h('td', {}, r.outcome),
    h('td', { class: 'audit-detail' }, r.detail))));
}

function render(state, d) {
  const field = (name, type = 'text') => h('label', {},
    h('span', {}, t(`audit.${name}`)),
    h('input', { type, name, id: `audit-${name}`, autocomplete: 'off' }));
  const status = h('p', { class: 'muted', role: 'status', id: 'audit-status' }, '');
  const body = h('tbody', {});
  const form = h('form', {
    id: 'audit-filter', class: 'audit-filter',
    onsubmit: (ev) => { ev.preventDefault(); load(state, form, status, body); },
  },
  field('actor'), field('action'), field('object'),
  field('since', 'datetime-local'), field('until', 'datetime-local'),
  h('button', { type: 'submit', class: 'primary' }, t('audit.apply')));
  const cols = ['seq', 'time', 'actor', 'action', 'object', 'outcome', 'detail'];
  fill(d,
    h('h2', { id: 'audit-title' }, t('audit.title')),
    form,
    status,
    h('table', { class: 'audit-table' },
      h('thead', {}, h('tr', {}, cols.map((c) => h('th', { scope: 'col' }, t(`audit.col.${c}`))))),
      body),
    h('form', { method: 'dialog' }, h('button', { class: 'primary' }, t('audit.close'))));
  return load(state, form, status, body);
}

/** Add the "Audit log" button to the top bar for an auditor. */
export function mountAudit(state) {
  const tools = document.querySelector('.topbar .tools');
  if (!tools || document.getElementById('audit-open')) return;
  if (!(state.me?.roles || []).includes('auditor')) return;
  const btn = h('button', {
    type: 'button', id: 'audit-open', class: 'ghost', dataset: { i18n: 'audit.open' },
    onclick: async () => {
      const d = dialog();
      await render(state, d);
      if (!d.open) d.showModal();
    },
  }, t('audit.open'));
  tools.insertBefore(btn, document.getElementById('signout'));
}
