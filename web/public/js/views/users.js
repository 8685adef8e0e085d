// users.js — the administrator's users view: every account of the node
// with its organisation, roles and status, a button to disable or enable
// it (GET /api/v1/users, PATCH /api/v1/users/{name}), and a panel that
// does the rest of what `liaison user ...` does: set roles and clearance
// (PATCH; the node validates the clearance against its policy and says
// why it refuses one), a new password (PUT .../password), the user's
// named tokens listed and revoked (GET/DELETE .../tokens), the client
// certificate binding (PUT/DELETE .../certificate), and removal (DELETE). Only shown to administrators (the node refuses anyone else
// anyway). A disabled or removed user's sessions and tokens stop on the
// node at once; every act is audited there.
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

const enc = encodeURIComponent;

/** Do one administrator's act; the sentence to show (the node's reason
 *  when it refuses). */
async function act(state, method, url, body, done) {
  try {
    await state.api.request(method, url, body);
    return done;
  } catch (e) {
    return plainWords(e);
  }
}

/** The user's client-certificate binding (smart cards): a certificate
 *  (PEM), or a subject under the CA that issues it (PUT .../certificate),
 *  or none (DELETE). */
function certificateFields(state, u, base, again) {
  const pem = h('textarea', { id: 'manage-cert-pem', rows: 3, spellcheck: 'false', translate: 'no',
    placeholder: '-----BEGIN CERTIFICATE-----' });
  const subject = h('input', { type: 'text', id: 'manage-cert-subject', spellcheck: 'false', translate: 'no',
    placeholder: 'CN=…,O=…,C=…' });
  const issuer = h('textarea', { id: 'manage-cert-issuer', rows: 3, spellcheck: 'false', translate: 'no',
    placeholder: '-----BEGIN CERTIFICATE-----' });
  const now = u.certificateSubject ? t('users.certSubjectNow', u.certificateSubject)
    : u.certificate ? t('users.certFingerprintNow') : t('users.certNone');
  return h('fieldset', {}, h('legend', {}, t('users.certificate')),
    h('p', { id: 'manage-cert-now', class: 'small' }, now, ' ',
      u.certificate ? h('button', { type: 'button', class: 'ghost small', id: 'manage-cert-unbind',
        onclick: async () => again(await act(state, 'DELETE', `${base}/certificate`, undefined,
          t('users.certUnbound', u.name))) }, t('users.certUnbind')) : null),
    h('label', { for: 'manage-cert-pem' }, t('users.certPem')), pem,
    h('button', { type: 'button', id: 'manage-cert-bind', onclick: async () =>
      again(await act(state, 'PUT', `${base}/certificate`, { certificate: pem.value },
        t('users.certBound', u.name))) }, t('users.certBind')),
    h('label', { for: 'manage-cert-subject' }, t('users.certSubject')), subject,
    h('label', { for: 'manage-cert-issuer' }, t('users.certIssuer')), issuer,
    h('button', { type: 'button', id: 'manage-cert-bind-subject', onclick: async () =>
      again(await act(state, 'PUT', `${base}/certificate`, { subject: subject.value, issuer: issuer.value },
        t('users.certBound', u.name))) }, t('users.certBindSubject')));
}

/** The panel that manages one user. */
async function managePanel(state, d, u) {
  const base = `/api/v1/users/${enc(u.name)}`;
  let tokens = [];
  try {
    tokens = (await state.api.request('GET', `${base}/tokens`))?.tokens || [];
  } catch (e) {
    tokens = [];
  }
  const again = (said) => render(state, d, said, u.name);
  const roleBoxes = ROLES.map((r) => h('label', { class: 'role-choice' },
    h('input', { type: 'checkbox', name: 'role', value: r, checked: (u.roles || []).includes(r) || undefined }),
    ` ${roleWord(r)}`));
  const clearance = h('textarea', { id: 'manage-clearance', rows: 6, spellcheck: 'false', translate: 'no',
    'aria-describedby': 'manage-clearance-hint' }, JSON.stringify(u.clearance, null, 2));
  const password = h('input', { type: 'password', id: 'manage-password', autocomplete: 'new-password', minlength: 12 });
  const tokenRows = tokens.length ? tokens.map((tk) => h('li', { dataset: { token: tk.name } },
    h('code', {}, tk.name), ' ',
    h('span', { class: 'muted small' }, tk.expires ? t('users.tokenExpires', new Date(tk.expires).toISOString().slice(0, 10)) : t('users.tokenNever')), ' ',
    h('button', { type: 'button', class: 'ghost small', dataset: { revoke: tk.name },
      onclick: async () => again(await act(state, 'DELETE', `${base}/tokens/${enc(tk.name)}`, undefined,
        t('users.tokenRevoked', tk.name, u.name))) }, t('users.revoke'))))
    : [h('li', { class: 'muted' }, t('users.noTokens'))];
  return h('section', { id: 'user-manage', class: 'user-manage', dataset: { user: u.name },
    'aria-labelledby': 'user-manage-title' },
  h('h3', { id: 'user-manage-title' }, t('users.manageTitle', u.name)),
  h('fieldset', {}, h('legend', {}, t('users.roles')), ...roleBoxes,
    h('button', { type: 'button', id: 'manage-roles-save', onclick: async () => {
      const roles = [...d.querySelectorAll('#user-manage input[name=role]:checked')].map((x) => x.value);
      again(await act(state, 'PATCH', base, { roles }, t('users.rolesSet', u.name)));
    } }, t('users.saveRoles'))),
  h('fieldset', {}, h('legend', {}, t('users.clearance')),
    h('p', { id: 'manage-clearance-hint', class: 'small muted' }, t('users.clearanceHint')),
    clearance,
    h('button', { type: 'button', id: 'manage-clearance-save', onclick: async () => {
      let value;
      try {
        value = JSON.parse(clearance.value);
      } catch (e) {
        again(t('users.clearanceNotJson'));
        return;
      }
      again(await act(state, 'PATCH', base, { clearance: value }, t('users.clearanceSet', u.name)));
    } }, t('users.saveClearance'))),
  h('fieldset', {}, h('legend', {}, t('users.password')),
    h('label', { for: 'manage-password' }, t('users.newPassword')), ' ', password, ' ',
    h('button', { type: 'button', id: 'manage-password-save', onclick: async () => {
      const pw = password.value;
      password.value = '';
      again(await act(state, 'PUT', `${base}/password`, { password: pw }, t('users.passwordSet', u.name)));
    } }, t('users.setPassword'))),
  h('fieldset', {}, h('legend', {}, t('users.tokens')), h('ul', { id: 'manage-tokens' }, tokenRows)),
  certificateFields(state, u, base, again),
  h('p', {}, h('button', { type: 'button', id: 'manage-remove', class: 'danger', onclick: async () => {
    if (!window.confirm(t('users.removeConfirm', u.name))) return;
    d.dataset.manage = '';
    render(state, d, await act(state, 'DELETE', base, undefined, t('users.removed', u.name)));
  } }, t('users.remove'))));
}

async function render(state, d, message = '', manage = d.dataset.manage || '') {
  d.dataset.manage = manage;
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
    const manageBtn = u.status === 'removed' || u.name === me ? null
      : h('button', { type: 'button', class: 'ghost', dataset: { manage: u.name },
        'aria-expanded': String(manage === u.name),
        onclick: () => render(state, d, '', manage === u.name ? '' : u.name) }, t('users.manage'));
    return h('tr', { dataset: { user: u.name, status: u.status } },
      h('th', { scope: 'row' }, u.name),
      h('td', {}, u.organisation),
      h('td', {}, (u.roles || []).map(roleWord).join(', ')),
      h('td', { class: 'user-status' }, statusWord(u.status)),
      h('td', {}, action, ' ', manageBtn));
  };
  const managed = users.find((u) => u.name === manage && u.status !== 'removed');
  const panel = managed ? await managePanel(state, d, managed) : null;
  fill(d,
    h('h2', { id: 'users-title' }, t('users.title')),
    h('p', { class: 'muted', role: 'status', id: 'users-status' }, error || message),
    h('table', { class: 'users-table' },
      h('thead', {}, h('tr', {}, ['users.user', 'users.organisation', 'users.roles', 'users.statusCol', null].map((k) => h('th', { scope: 'col' }, k ? t(k) : '')))),
      h('tbody', {}, users.map(row))),
    panel,
    h('form', { method: 'dialog' }, h('button', { class: 'primary' }, t('users.close'))));
  // The panel just opened (or acted on) is where the administrator looks.
  if (panel) panel.scrollIntoView({ block: 'nearest' });
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
      await render(state, d, '', ''); // opened afresh: no user's panel
      if (!d.open) d.showModal();
    },
  }, t('users.title'));
  btn.dataset.i18n = 'users.title';
  tools.insertBefore(btn, document.getElementById('signout'));
}
