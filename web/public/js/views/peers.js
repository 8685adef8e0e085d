// peers.js — the administrator's peers view: the nodes this node exchanges
// items with (GET /api/v1/peers): name, nation, address (and the relay
// through which it is reached), the SHA-256 fingerprint of its pinned
// certificate, the highest classification agreed with it, the policy its
// node decides under (its name and OID), and its state:
// last contact, items waiting, last acknowledged, last error. Only shown to
// administrators (the node refuses anyone else anyway; each listing is
// audited there). Read only: peers are added with `liaison peer add` or
// POST /api/v1/peers.
import { h, fill } from '../dom.js';
import { plainWords } from '../api.js';
import { t } from '../i18n.js';
import { state } from '../state.js';

const STATES = ['new', 'up', 'down', 'refused'];
const stateWord = (s) => (STATES.includes(s) ? t(`peers.state.${s}`) : s);

function dialog() {
  let d = document.getElementById('peers-dialog');
  if (!d) {
    d = h('dialog', { id: 'peers-dialog', class: 'detail peers', 'aria-labelledby': 'peers-title' });
    document.body.append(d);
  }
  return d;
}

/** The peer's policy: its name and OID; "this node's" when it is ours; the
 *  OID alone, said not held here, when the node no longer holds it. */
function policyCell(p) {
  if (!p.policy) return [t('peers.none')];
  const ours = state.policy && p.policy === state.policy.id;
  return [h('span', { class: 'peer-policy-name', translate: 'no' }, p.policyName || p.policy),
    ours ? ` ${t('peers.policyOurs')}` : (p.policyName ? null : ` ${t('peers.policyNotHeld')}`),
    p.policyName ? h('div', { class: 'muted small' }, h('code', { class: 'peer-policy-oid' }, p.policy)) : null];
}

function row(p) {
  const when = p.lastContact ? new Date(p.lastContact).toISOString().replace('.000Z', 'Z') : t('peers.never');
  return h('tr', { dataset: { peer: p.name, state: p.state } },
    h('th', { scope: 'row' }, p.name),
    h('td', { class: 'peer-nation' }, p.nation),
    h('td', { class: 'peer-url' }, p.url, p.via ? h('div', { class: 'muted' }, t('peers.via', p.via)) : null),
    h('td', {}, h('code', { class: 'peer-fingerprint' }, p.fingerprint || t('peers.none'))),
    h('td', { class: 'peer-max' }, p.maxClassification || t('peers.highest')),
    h('td', { class: 'peer-policy' }, ...policyCell(p)),
    h('td', { class: 'peer-state' }, stateWord(p.state)),
    h('td', { class: 'peer-contact' }, when),
    h('td', { class: 'peer-waiting' }, String(p.waiting ?? 0)),
    h('td', { class: 'peer-acked' }, String(p.lastAcknowledged ?? 0)),
    h('td', { class: 'peer-error' }, p.lastError || t('peers.none')));
}

async function render(state, d) {
  let peers = [];
  let status = '';
  try {
    peers = (await state.api.request('GET', '/api/v1/peers'))?.peers || [];
    status = peers.length ? t('peers.count', peers.length) : t('peers.empty');
  } catch (e) {
    status = plainWords(e);
  }
  const cols = ['name', 'nation', 'url', 'fingerprint', 'max', 'policy', 'state', 'contact', 'waiting', 'acked', 'error'];
  fill(d,
    h('h2', { id: 'peers-title' }, t('peers.title')),
    h('p', { class: 'muted', role: 'status', id: 'peers-status' }, status),
    h('div', { class: 'peers-scroll' }, h('table', { class: 'peers-table' },
      h('thead', {}, h('tr', {}, cols.map((c) => h('th', { scope: 'col' }, t(`peers.col.${c}`))))),
      h('tbody', {}, peers.map(row)))),
    h('form', { method: 'dialog' }, h('button', { class: 'primary' }, t('peers.close'))));
}

/** Add the "Peers" button to the top bar for an administrator. */
export function mountPeers(state) {
  const tools = document.querySelector('.topbar .tools');
  if (!tools || document.getElementById('peers-open')) return;
  if (!(state.me?.roles || []).includes('administrator')) return;
  const btn = h('button', {
    type: 'button', id: 'peers-open', class: 'ghost', dataset: { i18n: 'peers.open' },
    onclick: async () => {
      const d = dialog();
      await render(state, d);
      if (!d.open) d.showModal();
    },
  }, t('peers.open'));
  tools.insertBefore(btn, document.getElementById('signout'));
}
