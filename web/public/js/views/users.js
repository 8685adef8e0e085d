// users.js — the administrator's users view: every account of the node
// with its organisation, roles and status, and a button to disable or
// enable it (GET /api/v1/users, PATCH /api/v1/users/{name}). Only shown to
// administrators (the node refuses anyone else anyway). A disabled user's
// sessions and token stop on the node at once; the act is audited there.
import { h, fill } from '../dom.js';
import { plainWords } from '../api.js';
import { t } from '../i18n.js';

const ROLES = ['member', 'release_authority', 'auditor', 'administrator'];
const STATUSES = ['active', 'disabled', 'removed'];
const roleWord = (r) => (ROLES.includes(r) ? t(`users.role.${r}`) : r);
const statusWord = (v) => (STATUSES.includes(v) ? t(`users.status.${v}`) : v);

function dialog() {
  let d = document.getElementById('users-dialog');
  if (!d) {
    d = h('dialog', { id: 'users-dialog', class: 'detail users', 'aria-labelledby': 'users-title' });
    document.body.append(d);
  }
  return d;
}

async function render(state, d, message = '') {
  let users = [];
  let error = '';
  try {
    users = (await state.api.request('GET', '/api/v1/users'))?.users || [];
  } catch (e) {
    error = plainWords(e);
  }
  const me = state.me?.user;
  const row = (u) => {
    const next = u.status === 'active' ? 'disabled' : 'active';
    const action = u.status === 'removed' || u.name === me ? null
      : h('button', {
        type: 'button', class: 'ghost', dataset: { user: u.name, to: next },
        onclick: async (ev) => {
          ev.currentTarget.disabled = true;
          let said;
          try {
            await state.api.request('PATCH', `/api/v1/users/${encodeURIComponent(u.name)}`, { status: next });
            said = t(next === 'disabled' ? 'users.disabled' : 'users.enabled', u.name);
          } catch (e) {
            said = plainWords(e);
          }
          render(state, d, said);
        },
      }, t(next === 'disabled' ? 'users.disable' : 'users.enable'));
    return h('tr', { dataset: { user: u.name, status: u.status } },
      h('th', { scope: 'row' }, u.name),
      h('td', {}, u.organisation),
      h('td', {}, (u.roles || []).map(roleWord).join(', ')),
      h('td', { class: 'user-status' }, statusWord(u.status)),
      h('td', {}, action));
  };
  fill(d,
    h('h2', { id: 'users-title' }, t('users.title')),
    h('p', { class: 'muted', role: 'status', id: 'users-status' }, error || message),
    h('table', { class: 'users-table' },
      h('thead', {}, h('tr', {}, ['users.user', 'users.organisation', 'users.roles', 'users.statusCol', null].map((k) => h('th', { scope: 'col' }, k ? t(k) : '')))),
      h('tbody', {}, users.map(row))),
    h('form', { method: 'dialog' }, h('button', { class: 'primary' }, t('users.close'))));
}

/** Add the "Users" button to the top bar for an administrator. */
export function mountUsers(state) {
  const tools = document.querySelector('.topbar .tools');
  if (!tools || document.getElementById('users-open')) return;
  if (!(state.me?.roles || []).includes('administrator')) return;
  const btn = h('button', {
    type: 'button', id: 'users-open', class: 'ghost',
    onclick: async () => {
      const d = dialog();
      await render(state, d);
      if (!d.open) d.showModal();
    },
  }, t('users.title'));
  btn.dataset.i18n = 'users.title';
  tools.insertBefore(btn, document.getElementById('signout'));
}
