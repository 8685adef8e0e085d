// views/release.js — release requests (issue 13, docs/RELEASE.md): in an
// item's detail, "Request wider release" (the item's label with only wider
// choices — values added, a restrictive category dropped, a lower
// classification — a reason, an optional deadline in UTC); and the
// "Release requests" view: the requests the user proposed or decides on,
// with their state, deadline (UTC) and a live countdown while open, the
// authorities' answers and the history. An authority concurs or breaks
// silence (a reason is required); the proposer withdraws or extends once.
// The stream's release-request notices (sent by the node to the request's
// parties only) update a card in place, or mark the button while the view
// is closed. The node decides and is the clock: the page shows its
// answers, and its refusals in words.
import { h, fill } from '../dom.js';
import { plainWords, ApiError } from '../api.js';
import { state } from '../state.js';
import { t } from '../i18n.js';
import { widerChoices, droppableChoices, lowerClassifications, changedLabel, utcDeadline, utcText,
  timeLeft, leftText } from '../release.js';
import { banner, itemBanner } from './banner.js';

const STATES = ['open', 'adopted', 'silence-broken', 'withdrawn'];
const ANSWERS = ['none', 'concur', 'break'];
const EVENTS = ['open', 'concur', 'break', 'withdraw', 'extend', 'adopt', 'close'];
const word = (list, prefix, v) => (list.includes(v) ? t(`${prefix}.${v}`) : v);

/** The node's refusal in words: its own sentence for 422 and 409. */
export function releaseError(e) {
  if (e instanceof ApiError) {
    if (e.code === 'invalid') return t('rel.err.invalid', e.message);
    if (e.code === 'conflict') return t('rel.err.conflict', e.message);
    if (e.code === 'forbidden') return t('rel.err.forbidden');
  }
  return plainWords(e);
}

const path = (rid, act = '') => `/api/v1/release-requests/${encodeURIComponent(rid)}${act ? `/${act}` : ''}`;

/* ---------------------------------------------------------------- detail */

/** The "Request wider release" part of an item's detail (a member only). */
export function releaseSection(item) {
  if (!(state.me?.roles || []).includes('member') || !item.label) return null;
  const box = h('section', { class: 'release-ask', id: 'release-ask', 'aria-labelledby': 'release-ask-title' });
  const open = h('button', { type: 'button', id: 'release-ask-open', onclick: () => fill(box, form(item)) },
    t('rel.ask'));
  fill(box, open);
  return box;
}

function form(item) {
  const groups = widerChoices(state.policy, item.label);
  const drops = droppableChoices(state.policy, item.label);
  const lower = lowerClassifications(state.policy, item.label);
  const status = h('p', { id: 'release-ask-status', role: 'status', class: 'muted' });
  const reason = h('textarea', { id: 'release-reason', rows: '3', required: true, maxlength: '4000' });
  const deadline = h('input', { type: 'datetime-local', id: 'release-deadline' });
  const boxes = groups.map((g) => h('fieldset', {},
    h('legend', { translate: 'no' }, g.tagSet),
    item.label.categories.find((c) => c.tagSet === g.tagSet).values.map((v) =>
      h('label', { class: 'check' }, h('input', { type: 'checkbox', checked: true, disabled: true }), ` ${v}`)),
    g.values.map((c) => h('label', { class: 'check' },
      h('input', { type: 'checkbox', name: 'release-add', value: c.name, dataset: { tagSet: g.tagSet } }), ` ${c.name}`))));
  // A restrictive category (readers need it) may be dropped: untick it.
  const dropBoxes = drops.map((g) => h('fieldset', { class: 'release-drops' },
    h('legend', {}, h('span', { translate: 'no' }, g.tagSet), ` — ${t('rel.dropHint')}`),
    g.values.map((v) => h('label', { class: 'check' },
      h('input', { type: 'checkbox', name: 'release-keep', value: v, checked: true, dataset: { tagSet: g.tagSet } }), ` ${v}`))));
  // A lower classification: a downgrade (the same procedure).
  const klass = lower.length ? h('select', { id: 'release-class' },
    h('option', { value: '' }, t('rel.keepClass', item.label.classification)),
    lower.map((c) => h('option', { value: c.name }, t('rel.lowerTo', c.name)))) : null;
  const chosen = (f) => ({
    added: [...f.querySelectorAll('input[name=release-add]:checked')]
      .map((i) => ({ tagSet: i.dataset.tagSet, value: i.value })),
    removed: [...f.querySelectorAll('input[name=release-keep]:not(:checked)')]
      .map((i) => ({ tagSet: i.dataset.tagSet, value: i.value })),
    classification: f.querySelector('#release-class')?.value || null,
  });
  const changed = (c) => c.added.length || c.removed.length || c.classification;
  // The marking before and after, as the node marks them (POST
  // /api/v1/labels/mark); a later answer for older choices is dropped.
  const after = h('div', { id: 'release-after', class: 'release-after' }, h('span', { class: 'muted' }, t('rel.afterNone')));
  let asked = 0;
  const preview = async (ev) => {
    const c = chosen(ev.currentTarget);
    const mine = ++asked;
    if (!changed(c)) { fill(after, h('span', { class: 'muted' }, t('rel.afterNone'))); return; }
    const label = changedLabel(item.label, c);
    try {
      const m = await state.api.mark(label);
      if (mine === asked) fill(after, banner(label.classification, m.marking, m.markingFr ?? m.marking_fr ?? m.marking, 'inline'));
    } catch (e) {
      if (mine === asked) fill(after, h('span', { class: 'error' }, releaseError(e)));
    }
  };
  const submit = async (ev) => {
    ev.preventDefault();
    const c = chosen(ev.target);
    status.className = 'muted';
    delete status.dataset.rid;
    if (!changed(c)) { status.className = 'error'; status.textContent = t('rel.pickOne'); return; }
    if (!reason.value.trim()) { status.className = 'error'; status.textContent = t('rel.needReason'); return; }
    const body = { label: changedLabel(item.label, c), reason: reason.value.trim() };
    if (deadline.value) {
      const d = utcDeadline(deadline.value);
      if (!d) { status.className = 'error'; status.textContent = t('rel.badDeadline'); return; }
      body.deadline = d;
    }
    status.textContent = t('rel.sending');
    try {
      const r = await state.api.request('POST', `/api/v1/items/${encodeURIComponent(item.id)}/release-requests`, body);
      status.className = 'ok';
      status.dataset.rid = r.id;
      status.dataset.kind = r.kind;
      status.textContent = t(r.kind === 'downgrade' ? 'rel.sentDowngrade' : 'rel.sent',
        state.lang === 'fr' ? r.markingFr : r.marking, utcText(r.deadline),
        (r.authorities || []).map((a) => a.user).join(', '));
    } catch (e) {
      status.className = 'error';
      status.textContent = releaseError(e);
    }
  };
  return h('form', { id: 'release-ask-form', onsubmit: submit, onchange: preview },
    h('h3', { id: 'release-ask-title' }, t('rel.ask')),
    groups.length || drops.length || klass ? [boxes, dropBoxes] : h('p', { class: 'muted' }, t('rel.nothingWider')),
    klass ? [h('label', { for: 'release-class' }, t('rel.classification')), klass,
      h('p', { class: 'small muted' }, t('rel.downgradeHint'))] : null,
    h('dl', { class: 'facts' },
      h('dt', {}, t('rel.before')), h('dd', {}, itemBanner(item, 'inline')),
      h('dt', {}, t('rel.after')), h('dd', {}, after)),
    h('label', { for: 'release-reason' }, t('rel.reason')),
    reason,
    h('p', { class: 'small muted' }, t('rel.reasonShown')),
    h('label', { for: 'release-deadline' }, t('rel.deadline')),
    deadline,
    h('div', { class: 'actions' }, h('button', { type: 'submit', class: 'primary', id: 'release-ask-send' }, t('rel.send'))),
    status);
}

/* ------------------------------------------------------------------ view */

function dialog() {
  let d = document.getElementById('releases-dialog');
  if (!d) {
    d = h('dialog', { id: 'releases-dialog', class: 'detail releases', 'aria-labelledby': 'releases-title' });
    document.body.append(d);
  }
  return d;
}

function answers(r) {
  return h('ul', { class: 'rel-authorities' }, r.authorities.map((a) =>
    h('li', { dataset: { user: a.user, answer: a.answer } },
      h('span', { translate: 'no' }, `${a.user} (${a.organisation})`), ': ',
      h('span', { class: 'rel-answer' }, word(ANSWERS, 'rel.answer', a.answer)),
      a.answered ? ` · ${utcText(a.answered)}` : null,
      a.reason ? [' · ', h('q', { class: 'rel-break-reason' }, a.reason)] : null)));
}

function actions(r, d) {
  if (r.state !== 'open') return null;
  const me = state.me?.user;
  const out = h('div', { class: 'rel-actions' });
  const status = h('p', { class: 'rel-status', role: 'status' });
  const act = async (verb, body) => {
    try {
      await state.api.request('POST', path(r.id, verb), body);
      await render(d);
    } catch (e) {
      status.className = 'rel-status error';
      status.textContent = releaseError(e);
    }
  };
  const mine = r.authorities.find((a) => a.user === me);
  if (mine && mine.answer === 'none') {
    const why = h('textarea', { class: 'rel-break-text', rows: '2', maxlength: '4000', 'aria-label': t('rel.breakReason') });
    out.append(
      h('button', { type: 'button', class: 'primary rel-concur', onclick: () => act('concur') }, t('rel.concur')),
      h('label', {}, t('rel.breakReason'), why),
      h('button', { type: 'button', class: 'danger rel-break', onclick: () => {
        if (!why.value.trim()) { status.className = 'rel-status error'; status.textContent = t('rel.needReason'); return; }
        act('break-silence', { reason: why.value.trim() });
      } }, t('rel.break')));
  }
  if (r.proposer === me) {
    out.append(h('button', { type: 'button', class: 'rel-withdraw', onclick: () => act('withdraw') }, t('rel.withdraw')));
    if (!r.extended) {
      const when = h('input', { type: 'datetime-local', class: 'rel-extend-when', 'aria-label': t('rel.newDeadline') });
      out.append(h('label', {}, t('rel.newDeadline'), when),
        h('button', { type: 'button', class: 'rel-extend', onclick: () => {
          const dl = utcDeadline(when.value);
          if (!dl) { status.className = 'rel-status error'; status.textContent = t('rel.badDeadline'); return; }
          act('extend', { deadline: dl });
        } }, t('rel.extend')));
    }
  }
  out.append(status);
  return out;
}

function card(r, d) {
  const marking = state.lang === 'fr' ? r.markingFr : r.marking;
  return h('li', { class: 'rel-request', dataset: { rid: r.id, state: r.state, item: String(r.item) } },
    banner(r.label?.classification, r.marking, r.markingFr, 'inline'),
    h('dl', { class: 'facts' },
      h('dt', {}, t('rel.state')), h('dd', { class: 'rel-state' }, word(STATES, 'rel.state', r.state)),
      h('dt', {}, t('rel.item')), h('dd', {}, h('code', { class: 'hash' }, String(r.item))),
      h('dt', {}, t('rel.proposed')), h('dd', { translate: 'no' }, marking),
      h('dt', {}, t('rel.kind')), h('dd', {}, word(['release', 'downgrade'], 'rel.kind', r.kind)),
      h('dt', {}, t('rel.proposer')), h('dd', { class: 'rel-proposer', translate: 'no' }, r.proposer),
      h('dt', {}, t('rel.reason')), h('dd', { class: 'rel-reason', translate: 'no' }, r.reason),
      h('dt', {}, t('rel.deadlineUtc')), h('dd', { class: 'rel-deadline' }, utcText(r.deadline),
        r.extended ? ` (${t('rel.extended')})` : null),
      r.state === 'open' ? [h('dt', {}, t('rel.left')),
        h('dd', { class: 'rel-countdown', dataset: { deadline: r.deadline } }, countdown(r.deadline))] : null,
      r.closed ? [h('dt', {}, t('rel.closed')), h('dd', {}, utcText(r.closed))] : null,
      h('dt', {}, t('rel.authorities')), h('dd', {}, answers(r))),
    r.history ? h('details', {}, h('summary', {}, t('rel.history')),
      h('ol', { class: 'rel-history' }, r.history.map((e) => h('li', {},
        `${utcText(e.time)} · `, h('span', { translate: 'no' }, e.actor), ` · ${word(EVENTS, 'rel.event', e.event)}`,
        e.detail ? [' · ', h('q', {}, e.detail)] : null)))) : null,
    actions(r, d));
}

/** The countdown's words for `deadline`, at the browser's clock. */
function countdown(deadline) {
  const left = timeLeft(deadline, Date.now());
  if (!left) return '';
  return left.over ? t('rel.deadlineReached') : t('rel.timeLeft', leftText(left, state.lang));
}

/* One timer for the open view: each second, every open card's countdown is
 * written again (stopped when the view closes). */
let ticker = null;
function tick(d) {
  if (!d.open) { clearInterval(ticker); ticker = null; return; }
  for (const el of d.querySelectorAll('.rel-countdown')) el.textContent = countdown(el.dataset.deadline);
}
function startTicking(d) {
  if (ticker === null) ticker = setInterval(() => tick(d), 1000);
}

async function fetchRequest(rid) {
  return state.api.request('GET', path(rid));
}

async function render(d) {
  let list = [];
  let status = '';
  try {
    const rows = (await state.api.request('GET', '/api/v1/release-requests'))?.requests || [];
    // A single request's answer carries its history: fetch each (a few).
    list = await Promise.all(rows.map((r) => fetchRequest(r.id).catch(() => r)));
    status = list.length ? t('rel.count', list.length) : t('rel.empty');
  } catch (e) {
    status = releaseError(e);
  }
  fill(d,
    h('h2', { id: 'releases-title' }, t('rel.title')),
    h('p', { class: 'muted', role: 'status', id: 'releases-status' }, status),
    h('ul', { class: 'rel-list' }, list.map((r) => card(r, d))),
    h('form', { method: 'dialog' }, h('button', { class: 'primary' }, t('rel.close'))));
  startTicking(d);
}

/* ---------------------------------------------------------- live notices */

let unseen = 0;
function markButton() {
  const btn = document.getElementById('releases-open');
  if (!btn) return;
  btn.querySelector('.badge')?.remove();
  if (unseen) btn.append(' ', h('span', { class: 'badge', id: 'releases-unseen', 'aria-label': t('rel.unseen', unseen) }, String(unseen)));
}

/** A release-request notice from the stream ({id, event, state}): the node
 *  sent it because this user is a party; the request itself is read again
 *  (the node checks again who may see it). The view, when open, has its
 *  card replaced (or a new one added; one the user may no longer see goes);
 *  else the button counts it. Either way the change is said. */
export async function releaseNotice(n) {
  const said = document.getElementById('releases-notice');
  if (said) said.textContent = t('rel.notice', word(EVENTS, 'rel.event', n.event), word(STATES, 'rel.state', n.state));
  const d = document.getElementById('releases-dialog');
  if (!d?.open) {
    unseen += 1;
    markButton();
    return;
  }
  const list = d.querySelector('.rel-list');
  const old = list?.querySelector(`li[data-rid="${CSS.escape(n.id)}"]`);
  let r = null;
  try { r = await fetchRequest(n.id); } catch { /* gone for this user: its card goes */ }
  if (!list) return;
  const now = list.querySelector(`li[data-rid="${CSS.escape(n.id)}"]`) || old;
  if (!r) { now?.remove(); return; }
  const fresh = card(r, d);
  fresh.classList.add('fresh');
  if (now) now.replaceWith(fresh);
  else list.prepend(fresh);
  document.getElementById('releases-status').textContent = t('rel.count', list.children.length);
}

/** The stream came back: notices missed meanwhile are not replayed, so the
 *  open view is read again, and the button says something may have changed. */
export async function releasesResync() {
  const d = document.getElementById('releases-dialog');
  if (d?.open) await render(d);
}

/** Add the "Release requests" button to the top bar (members), and the
 *  place where live changes are said. */
export function mountReleases() {
  const tools = document.querySelector('.topbar .tools');
  if (!tools || document.getElementById('releases-open')) return;
  if (!(state.me?.roles || []).includes('member')) return;
  const btn = h('button', {
    type: 'button', id: 'releases-open', class: 'ghost',
    onclick: async () => {
      const d = dialog();
      unseen = 0;
      markButton();
      await render(d);
      if (!d.open) d.showModal();
    },
  }, h('span', { dataset: { i18n: 'rel.open' } }, t('rel.open'))); // its words switch; the badge stays
  tools.insertBefore(btn, document.getElementById('signout'));
  tools.insertBefore(h('span', { id: 'releases-notice', class: 'rel-notice small', role: 'status' }),
    document.getElementById('signout'));
}
