// users.js — the administrator's users view: every account of the node
// with its organisation, roles and status, and a button to disable or
// enable it (GET /api/v1/users, PATCH /api/v1/users/{name}). Only shown to
// administrators (the node refuses anyone else anyway). A disabled user's
// sessions and token stop on the node at once; the act is audited there.
import { h, fill } from '../dom.js';
import { plainWords } from '../api.js';

const ROLE_WORDS = {
  member: 'member', release_authority: 'release authority', auditor: 'auditor', administrator: 'administrator',
};
const STATUS_WORDS = { active: 'Active', disabled: 'Disabled', removed: 'Removed' };

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
            said = next === 'disabled' ? `${u.name} is disabled: signed out everywhere.` : `${u.name} may sign in again.`;
          } catch (e) {
            said = plainWords(e);
          }
          render(state, d, said);
        },
      }, next === 'disabled' ? 'Disable' : 'Enable');
    return h('tr', { dataset: { user: u.name, status: u.status } },
      h('th', { scope: 'row' }, u.name),
      h('td', {}, u.organisation),
      h('td', {}, (u.roles || []).map((r) => ROLE_WORDS[r] || r).join(', ')),
      h('td', { class: 'user-status' }, STATUS_WORDS[u.status] || u.status),
      h('td', {}, action));
  };
  fill(d,
    h('h2', { id: 'users-title' }, 'Users'),
    h('p', { class: 'muted', role: 'status', id: 'users-status' }, error || message),
    h('table', { class: 'users-table' },
      h('thead', {}, h('tr', {}, ['User', 'Organisation', 'Roles', 'Status', ''].map((t) => h('th', { scope: 'col' }, t)))),
      h('tbody', {}, users.map(row))),
    h('form', { method: 'dialog' }, h('button', { class: 'primary' }, 'Close')));
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
  }, 'Users');
  tools.insertBefore(btn, document.getElementById('signout'));
}
