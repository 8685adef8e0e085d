// views/correct.js — correcting an item from its detail (docs/RELEASE.md,
// "Correcting an item"): **withdraw** it (its author, or a release
// authority of its organisation: it disappears for every reader) and
// **narrow** it (its author: fewer nations, a higher classification the
// author holds; a new version at once, without a request). Each shows the
// marking now and the marking after (the node's, from POST
// /api/v1/labels/mark) and asks for a confirmation before it is sent. The
// buttons follow the table of rights (src/node/service_roles.c); the node
// decides, and its refusals are said in words.
import { h, fill } from '../dom.js';
import { state } from '../state.js';
import { t } from '../i18n.js';
import { plainWords, ApiError } from '../api.js';
import { heldClassifications } from '../picker.js';
import { removableChoices, higherClassifications, changedLabel } from '../release.js';
import { banner, itemBanner } from './banner.js';
import { removeItem, prependItem } from './items.js';

const itemPath = (item, act) => `/api/v1/items/${encodeURIComponent(item.id)}/${act}`;

function fixError(e) {
  if (e instanceof ApiError) {
    if (e.code === 'invalid') return t('fix.err.invalid', e.message);
    if (e.code === 'forbidden') return t('fix.err.forbidden');
    if (e.code === 'not_found') return t('fix.err.gone');
  }
  return plainWords(e);
}

/** The "Correct this item" part of an item's detail, for its author or a
 *  release authority of its organisation (members); null for anyone else. */
export function correctSection(item) {
  const me = state.me;
  const roles = me?.roles || [];
  if (!item.label || !roles.includes('member')) return null;
  const author = item.author === me.user;
  const authority = roles.includes('release_authority') && item.organisation === me.organisation;
  if (!author && !authority) return null;
  const box = h('section', { class: 'correct', id: 'correct', 'aria-labelledby': 'correct-title' });
  const start = () => fill(box,
    h('h3', { id: 'correct-title' }, t('fix.title')),
    h('div', { class: 'actions' },
      h('button', { type: 'button', id: 'withdraw-open', class: 'danger', onclick: () => fill(box, withdrawForm(item, start)) },
        t('fix.withdraw')),
      author ? h('button', { type: 'button', id: 'narrow-open', onclick: () => fill(box, narrowForm(item, start)) },
        t('fix.narrow')) : null));
  start();
  return box;
}

function withdrawForm(item, back) {
  const status = h('p', { id: 'withdraw-status', role: 'status', class: 'muted' });
  const cancel = h('button', { type: 'button', id: 'withdraw-cancel', onclick: back }, t('fix.cancel'));
  const confirm = h('button', {
    type: 'button', id: 'withdraw-confirm', class: 'danger',
    onclick: async () => {
      confirm.disabled = true;
      status.className = 'muted';
      status.textContent = t('fix.sending');
      try {
        await state.api.request('POST', itemPath(item, 'withdraw'));
        status.className = 'ok';
        status.textContent = t('fix.withdrawn');
        cancel.remove();
        confirm.remove();
        removeItem(item.id, t('fix.withdrawnList'));
      } catch (e) {
        status.className = 'error';
        status.textContent = fixError(e);
        confirm.disabled = false;
      }
    },
  }, t('fix.withdrawConfirm'));
  return [
    h('h3', { id: 'correct-title' }, t('fix.withdrawTitle')),
    h('p', {}, t('fix.withdrawWhat')),
    h('dl', { class: 'facts' },
      h('dt', {}, t('rel.before')), h('dd', {}, itemBanner(item, 'inline')),
      h('dt', {}, t('fix.after')), h('dd', { id: 'withdraw-after' }, t('fix.noReader'))),
    h('div', { class: 'actions' }, confirm, cancel),
    status,
  ];
}

function narrowForm(item, back) {
  const removable = removableChoices(state.policy, item.label);
  const held = heldClassifications(state.policy, state.me?.clearance);
  const higher = higherClassifications(state.policy, item.label, held);
  const status = h('p', { id: 'narrow-status', role: 'status', class: 'muted' });
  const after = h('div', { id: 'narrow-after' }, h('span', { class: 'muted' }, t('fix.narrowNone')));
  const confirmBox = h('div', { id: 'narrow-confirm-box' });
  const boxes = removable.map((g) => h('fieldset', {},
    h('legend', {}, h('span', { translate: 'no' }, g.tagSet), ` — ${t('fix.untick')}`),
    g.values.map((v) => h('label', { class: 'check' },
      h('input', { type: 'checkbox', name: 'narrow-keep', value: v, checked: true, dataset: { tagSet: g.tagSet } }), ` ${v}`))));
  const klass = higher.length ? h('select', { id: 'narrow-class' },
    h('option', { value: '' }, t('rel.keepClass', item.label.classification)),
    higher.map((c) => h('option', { value: c.name }, t('fix.raiseTo', c.name)))) : null;
  const chosen = (f) => ({
    removed: [...f.querySelectorAll('input[name=narrow-keep]:not(:checked)')]
      .map((i) => ({ tagSet: i.dataset.tagSet, value: i.value })),
    classification: f.querySelector('#narrow-class')?.value || null,
  });
  let asked = 0;
  let marking = null; // the node's marking of the label chosen
  const preview = async (f) => {
    const c = chosen(f);
    const mine = ++asked;
    marking = null;
    fill(confirmBox);
    if (!c.removed.length && !c.classification) { fill(after, h('span', { class: 'muted' }, t('fix.narrowNone'))); return; }
    const label = changedLabel(item.label, c);
    try {
      const m = await state.api.mark(label);
      if (mine !== asked) return;
      marking = state.lang === 'fr' ? (m.markingFr ?? m.marking_fr ?? m.marking) : m.marking;
      fill(after, banner(label.classification, m.marking, m.markingFr ?? m.marking_fr ?? m.marking, 'inline'));
    } catch (e) {
      if (mine === asked) fill(after, h('span', { class: 'error' }, fixError(e)));
    }
  };
  const send = async (label) => {
    status.className = 'muted';
    status.textContent = t('fix.sending');
    try {
      const r = await state.api.request('POST', itemPath(item, 'narrow'), { label });
      fill(confirmBox);
      status.className = 'ok';
      status.dataset.version = String(r.version);
      status.textContent = t('fix.narrowed', r.version);
      try {
        const fresh = await state.api.item(item.id);
        if (fresh) prependItem({ channel: item.channel, ...fresh });
      } catch { /* the stream or the next load shows it */ }
    } catch (e) {
      status.className = 'error';
      status.textContent = fixError(e);
    }
  };
  const ask = (ev) => {
    ev.preventDefault();
    const c = chosen(ev.target);
    status.className = 'muted';
    status.textContent = '';
    if (!c.removed.length && !c.classification) { status.className = 'error'; status.textContent = t('fix.narrowPick'); return; }
    if (!marking) { status.className = 'error'; status.textContent = t('fix.narrowWait'); return; }
    const label = changedLabel(item.label, c);
    // The confirmation names the marking after, as the node marks it.
    fill(confirmBox,
      h('p', { id: 'narrow-confirm-text', translate: 'no' }, t('fix.narrowConfirmText', marking)),
      h('div', { class: 'actions' },
        h('button', { type: 'button', id: 'narrow-confirm', class: 'danger', onclick: () => send(label) }, t('fix.narrowConfirm')),
        h('button', { type: 'button', id: 'narrow-back', onclick: () => fill(confirmBox) }, t('fix.cancel'))));
  };
  return h('form', { id: 'narrow-form', onsubmit: ask, onchange: (ev) => preview(ev.currentTarget) },
    h('h3', { id: 'correct-title' }, t('fix.narrowTitle')),
    h('p', {}, t('fix.narrowWhat')),
    boxes,
    klass ? [h('label', { for: 'narrow-class' }, t('rel.classification')), klass] : null,
    h('dl', { class: 'facts' },
      h('dt', {}, t('rel.before')), h('dd', {}, itemBanner(item, 'inline')),
      h('dt', {}, t('fix.after')), h('dd', {}, after)),
    h('div', { class: 'actions' },
      h('button', { type: 'submit', id: 'narrow-send' }, t('fix.narrowSend')),
      h('button', { type: 'button', id: 'narrow-cancel', onclick: back }, t('fix.cancel'))),
    confirmBox,
    status);
}
