// views/compose.js — compose an item with the label picker.
//
// The policy to post under, when the node holds several (its own first:
// national.js says a national one in the clearance's terms), then the
// classification (only those the user's clearance holds), then the
// categories valid at it (picker.js decides), with the marking of the
// label being built shown live: asked of the node (POST
// /api/v1/labels/mark) when it has that endpoint, else computed here from
// the policy data. One document may be attached (sent base64-encoded in
// the post; refused before sending when it cannot fit the node's request
// limit). Errors from the node are shown in plain words beside the form.
import { h, fill, clipIcon } from '../dom.js';
import { state } from '../state.js';
import { Api, plainWords, ApiError } from '../api.js';
import {
  DEFAULT_BODY_LIMIT, formatSize, maxDocumentBytes, mediaTypeOf, refuseFile, requestBytes,
} from '../attachment.js';
import { bannerColours, canMark, markLabel, plainMarking } from '../marking.js';
import {
  catKey, heldClassifications, offeredTagSets, buildLabel, defaultChoices, authorCannotRead,
} from '../picker.js';
import { banner, relabel, nationalMarks } from './banner.js';
import { clearanceUnder, isNodePolicy, withEquivalentColours } from '../national.js';
import { t, listWords } from '../i18n.js';
import { categoryName } from '../nations.js';

let classification = null;
let chosen = new Set();
let markEndpoint = true;     // false once the node said it has no such route
let previewSeq = 0;
let onPosted = () => {};
const openSets = new Set();  // tag-set panels the user opened (kept across re-renders)
const filters = new Map();   // filter text per tag-set panel
let attached = null;         // the document to send: {name, mediaType, size, data (base64)}
let reading = null;          // the read of a chosen file, while it lasts
// The policy posted under: null for the node's own, else {policy (with its
// equivalents' colours), clearance (the user's, said under it)}. The
// choice is kept for the tab (docs/WEB.md, "National policies").
let composing = null;
const POLICY_KEY = 'liaison.composePolicy';
const policies = new Map();  // national policies fetched, by id

/** The national choice, while it is the signed-in user's (a later
 *  sign-in in this tab starts from the node's policy again). */
const national = () => (composing && composing.me === state.me ? composing : null);
/** The policy the form composes under, and the user's clearance in it. */
const cp = () => national()?.policy || state.policy;
const cc = () => national()?.clearance || state.me.clearance;

/** The id of the policy the signed-in user chose in this tab, or null
 *  (another user's choice is not theirs). */
function keptPolicy() {
  try {
    const k = JSON.parse(sessionStorage.getItem(POLICY_KEY) || 'null');
    return k && k.user === state.me.user && typeof k.id === 'string' ? k.id : null;
  } catch { return null; }
}

/** Signing out forgets the choice of policy. */
export function composeSignedOut() {
  sessionStorage.removeItem(POLICY_KEY);
}

// In a narrow window the form folds away under its heading (the items
// come first); on a laptop screen it is always open beside them (CSS).
let expanded = false;

function toggleCompose() {
  expanded = !expanded;
  const root = document.getElementById('compose');
  root.classList.toggle('expanded', expanded);
  const btn = document.getElementById('compose-toggle');
  btn.setAttribute('aria-expanded', String(expanded));
  btn.textContent = expanded ? t('compose.hide') : t('compose.show');
  if (expanded) root.querySelector('input[name=classification]:checked')?.focus();
}

const bodyLimit = () => state.me?.body_limit || DEFAULT_BODY_LIMIT;

/** A category's name in the page's language (a nation's name), or null. */
function localName(cat) {
  return categoryName(cat, state.lang);
}

/** How a tag set restricts readers, in a desk officer's words. */
function tagSetHint(type) {
  if (type === 'enumeratedPermissive' || type === 'permissive') return t('ts.permissive');
  if (type === 'enumeratedRestrictive' || type === 'restrictive') return t('ts.restrictive');
  return t('ts.informative');
}

/** Build the compose form for the current channel. The first time, the
 *  label is the user's most common one (picker.js: defaultChoices): for a
 *  partner, their lowest classification but one, released to their nation. */
export function renderCompose(posted) {
  onPosted = posted;
  resetChoices(false);
  // A document chosen for one channel never goes to another.
  attached = null;
  reading = null;
  renderForm();
  // The policy this user chose earlier in this tab, if the node still holds it.
  const kept = keptPolicy();
  if (kept && kept !== cp().id && (state.policy.policies || []).some((p) => p.id === kept)) {
    choosePolicy(kept);
  }
}

/** The default label under the current policy, unless the choices still
 *  fit it (`force`: always). */
function resetChoices(force) {
  const classes = heldClassifications(cp(), cc());
  if (force || !classification || !classes.some((c) => c.name === classification)) {
    classification = classes.length ? classes[Math.min(1, classes.length - 1)].name : null;
    chosen = defaultChoices(cp(), cc(), state.me.nation, classification);
  }
}

/** Compose under policy `id` (the node's own or a national one it holds):
 *  fetched once, then the picker starts again from the default label. */
async function choosePolicy(id) {
  const err = () => document.getElementById('compose-error');
  try {
    let next = null;
    if (id !== state.policy.id) {
      if (!policies.has(id)) {
        const p = await state.api.policy(id);
        policies.set(id, withEquivalentColours(state.policy, p));
      }
      const policy = policies.get(id);
      next = isNodePolicy(state.policy, policy) ? null
        : { policy, clearance: clearanceUnder(state.policy, state.me.clearance, policy), me: state.me };
    }
    composing = next;
    sessionStorage.setItem(POLICY_KEY, JSON.stringify({ user: state.me.user, id }));
  } catch (e) {
    if (err()) err().textContent = plainWords(e);
    return;
  }
  resetChoices(true);
  if (!document.getElementById('compose-form')) return;
  const body = document.getElementById('compose-body').value;
  renderForm();
  document.getElementById('compose-body').value = body;
  showChosen();
  document.getElementById('compose-policy')?.focus();
}

/** The choice of policy: shown only when the node holds more than one. */
function policyChoice() {
  const list = state.policy.policies || [];
  if (list.length < 2) return null;
  return h('div', { class: 'policy-choice' },
    h('label', { for: 'compose-policy' }, t('compose.policy')), ' ',
    h('select', { id: 'compose-policy', 'aria-describedby': 'compose-policy-hint',
      onchange: (e) => choosePolicy(e.target.value) },
    list.map((p) => h('option', { value: p.id, selected: p.id === cp().id, translate: 'no' },
      p.node ? t('compose.policyOwn', p.name) : p.name))),
    h('p', { class: 'small muted', id: 'compose-policy-hint' },
      national() ? t('compose.policyNational', state.policy.name) : t('compose.policyHint')));
}

function renderForm() {
  const classes = heldClassifications(cp(), cc());
  const root = document.getElementById('compose');
  root.classList.toggle('expanded', expanded);
  fill(root,
    h('div', { class: 'compose-head' },
      h('h2', { id: 'compose-title' }, t('compose.title'), state.current ? h('span', { class: 'muted', translate: 'no' }, ` #${state.current}`) : null),
      h('button', { type: 'button', class: 'compose-toggle', id: 'compose-toggle', 'aria-controls': 'compose-form',
        'aria-expanded': String(expanded), onclick: toggleCompose }, expanded ? t('compose.hide') : t('compose.show'))),
    h('form', { id: 'compose-form', class: 'compose-form', novalidate: true, onsubmit: submit },
      policyChoice(),
      h('fieldset', { class: 'classes' },
        h('legend', {}, t('compose.classification')),
        h('div', { class: 'class-row' }, classes.map((c) => classChip(c)))),
      h('div', { id: 'tagsets' }),
      h('div', { class: 'preview-wrap' },
        h('span', { class: 'small muted', id: 'preview-caption' }, t('preview.caption')),
        h('div', { id: 'preview', 'aria-live': 'polite', 'aria-describedby': 'preview-caption' }),
        h('ul', { id: 'label-notes', class: 'notes' })),
      h('label', { for: 'compose-body' }, t('compose.message')),
      h('textarea', { id: 'compose-body', rows: 2, required: true, placeholder: t('compose.placeholder'),
        'aria-describedby': 'compose-keys', onkeydown: postOnCtrlEnter }),
      h('p', { id: 'compose-keys', class: 'small muted keys' }, t('compose.keys')),
      h('div', { class: 'attach', id: 'compose-attach' },
        h('input', { type: 'file', id: 'compose-file', class: 'file-input', onchange: pickFile,
          'aria-describedby': 'compose-file-hint' }),
        h('label', { for: 'compose-file', class: 'button file-button' }, clipIcon(), ` ${t('compose.attach')}`),
        h('span', { id: 'compose-file-hint', class: 'small muted' },
          t('compose.attachHint', formatSize(maxDocumentBytes(bodyLimit())))),
        h('div', { id: 'compose-file-chosen', class: 'file-chosen', hidden: true })),
      h('div', { class: 'actions' },
        h('p', { id: 'compose-error', class: 'error', role: 'alert' }),
        h('p', { id: 'compose-status', class: 'small muted', role: 'status' }),
        h('button', { type: 'submit', class: 'primary', id: 'compose-post' }, t('compose.post')))));
  renderTagSets();
}

function classChip(c) {
  const { background, foreground } = bannerColours(cp(), c.name);
  const id = `cls-${c.lacv}`;
  const input = h('input', { type: 'radio', name: 'classification', id, value: c.name,
    checked: c.name === classification, onchange: () => { classification = c.name; renderTagSets(); } });
  // Under a national policy: its Japanese marking (a Japanese font: lang)
  // and what it is under the node's policy.
  const eq = national() && c.equivalent
    ? t('compose.equivalentClass', state.policy.name, c.equivalent.classification) : null;
  const chip = h('label', { for: id, class: 'class-chip', translate: 'no', title: eq },
    c.name, c.markingJa ? h('span', { class: 'chip-ja', lang: 'ja' }, ` ${c.markingJa}`) : null);
  chip.style.setProperty('--chip-bg', background);
  chip.style.setProperty('--chip-fg', foreground);
  return h('span', { class: 'class-opt' }, input, chip);
}

function renderTagSets() {
  const policy = cp();
  const me = { clearance: cc() };
  const groups = offeredTagSets(policy, me.clearance, classification);
  // Choices no longer valid at this classification are dropped, and said so.
  const dropped = [];
  for (const g of groups) {
    for (const w of g.withheld) if (chosen.delete(catKey(w.cat))) dropped.push(w.cat.name);
  }
  const built = buildLabel(policy, me.clearance, classification, chosen);
  const box = document.getElementById('tagsets');
  // Keep each panel open or closed as the user left it, read from the page:
  // a click may re-render before the panel's toggle event has been handled.
  for (const d of box.querySelectorAll('details.tagset')) {
    if (d.open) openSets.add(d.id); else openSets.delete(d.id);
  }
  // Releasability (enumerated permissive) first: it is what a desk officer sets most.
  const rank = (g) => (g.type === 'enumeratedPermissive' ? 0 : 1);
  fill(box, [...groups].sort((a, b) => rank(a) - rank(b)).map((g) => tagSetPanel(g, built)));
  if (dropped.length) {
    document.getElementById('compose-error').textContent = t('compose.dropped', dropped.join(', '), classification);
  } else {
    document.getElementById('compose-error').textContent = '';
  }
  preview(built);
}

function tagSetPanel(g, built) {
  const fsId = `ts-${g.tagSet.replace(/[^A-Za-z0-9]+/g, '-')}-${g.type}`;
  const grid = h('div', { class: 'cat-grid' }, g.offered.map((cat) => {
    const key = catKey(cat);
    const why = built.implied.get(key);
    const id = `${fsId}-${cat.lacv}`;
    const local = localName(cat);
    return h('span', { class: 'cat-opt', dataset: { name: cat.name } },
      h('input', { type: 'checkbox', id, value: cat.name, checked: chosen.has(key) || Boolean(why),
        disabled: Boolean(why) && !chosen.has(key), title: why,
        onchange: (e) => { if (e.target.checked) chosen.add(key); else chosen.delete(key); renderTagSets(); refocus(id); } }),
      h('label', { for: id, title: why || local || cat.name }, h('span', { translate: 'no', class: 'cat-code' }, cat.name),
        local ? h('span', { class: 'muted small cat-local' }, ` ${local}`) : null,
        cat.markingJa && cat.markingJa !== cat.name
          ? h('span', { class: 'muted small cat-ja', lang: 'ja', translate: 'no' }, ` ${cat.markingJa}`) : null,
        why ? h('span', { class: 'implied small' }, ` ${t('compose.auto')}`) : null));
  }));
  const applyFilter = (q) => {
    for (const el of grid.children) el.hidden = q !== '' && !el.textContent.toLowerCase().includes(q);
  };
  const filter = g.offered.length > 12
    ? h('input', { type: 'search', class: 'filter', placeholder: t('compose.filter'), 'aria-label': t('compose.filterOf', g.tagSet),
      value: filters.get(fsId) || '',
      oninput: (e) => { filters.set(fsId, e.target.value); applyFilter(e.target.value.trim().toLowerCase()); } })
    : null;
  applyFilter((filters.get(fsId) || '').trim().toLowerCase());
  const withheld = g.withheld.length
    ? h('p', { class: 'withheld small muted' }, t('compose.withheld', g.withheld.map((w) => w.cat.name).join(', '), [...new Set(g.withheld.map((w) => w.why))].join('; ')))
    : null;
  const picked = g.offered.filter((c) => chosen.has(catKey(c)) || built.implied.has(catKey(c))).map((c) => c.name);
  const det = h('details', { class: 'tagset', id: fsId, open: openSets.has(fsId),
    dataset: { tagset: g.tagSet, type: g.type },
    ontoggle: (e) => { if (e.target.open) openSets.add(fsId); else openSets.delete(fsId); } },
  h('summary', {}, h('span', { class: 'ts-name', translate: 'no' }, g.tagSet), ' ',
    h('span', { class: 'ts-picked', translate: 'no' }, picked.length ? picked.join(', ') : '—')),
  h('fieldset', {}, h('legend', { class: 'visually-hidden' }, g.tagSet),
    h('p', { class: 'small muted ts-hint' }, tagSetHint(g.type)),
    presetRow(g), filter,
    g.offered.length ? grid : h('p', { class: 'small muted' }, t('compose.nothing')), withheld));
  return det;
}

/** The named releases (presets.js) for this tag set, as buttons: one
 *  click ticks the group's values that are offered at this classification. */
function presetRow(g) {
  const mine = state.presets.filter((p) => p.tagSet === g.tagSet && g.type === 'enumeratedPermissive');
  if (!mine.length) return null;
  return h('div', { class: 'presets', role: 'group', 'aria-label': t('preset.group') },
    h('span', { class: 'small muted' }, t('preset.label')), ' ',
    mine.map((p) => {
      const names = p.values.map((v) => {
        const cat = g.offered.find((c) => c.name === v) || g.withheld.find((w) => w.cat.name === v)?.cat;
        return (cat && localName(cat)) || v;
      });
      const title = `${(state.lang === 'fr' ? p.fr : p.en) || p.name}: ${listWords(names)}`;
      return h('button', { type: 'button', class: 'preset small', dataset: { preset: p.name }, title,
        'aria-label': t('preset.aria', p.name, listWords(names)), onclick: () => applyPreset(g, p) }, p.name);
    }));
}

function applyPreset(g, p) {
  const skipped = [];
  for (const v of p.values) {
    const cat = g.offered.find((c) => c.name === v);
    if (cat) chosen.add(catKey(cat)); else skipped.push(v);
  }
  renderTagSets();
  document.getElementById('compose-error').textContent = skipped.length
    ? t('preset.skipped', p.name, skipped.join(', '), classification) : '';
  document.querySelector(`#tagsets .preset[data-preset="${CSS.escape(p.name)}"]`)?.focus();
}

function refocus(id) {
  const el = document.getElementById(id);
  if (el) el.focus();
}

async function preview(built) {
  const seq = ++previewSeq;
  const box = document.getElementById('preview');
  const notes = document.getElementById('label-notes');
  const problems = [...built.problems];
  const lock = authorCannotRead(cp(), cc(), built.label);
  if (lock) problems.push(t('lock.warn', lock));
  // Guidance for the rules the picker does not fill in (oneOrMore, onlyOne),
  // unless a problem already says it.
  const guidance = (built.guidance || []).filter((g) => !problems.some((p) => p.startsWith(g.split(':')[0])));
  fill(notes, [...problems.map((p) => h('li', {}, p)),
    ...guidance.map((g) => h('li', { class: 'guidance small muted' }, g))]);

  let en = null;
  let fr = null;
  let marks = null;  // a national label's {markingJa, equivalent}, from the node
  let approximate = false;
  if (markEndpoint) {
    try {
      const m = await state.api.mark(built.label);
      en = m.marking;
      fr = m.markingFr ?? m.marking_fr ?? m.marking;
      if (national()) marks = { markingJa: m.markingJa, equivalent: m.equivalent };
    } catch (e) {
      if (e instanceof ApiError && (e.status === 404 || e.status === 405)) markEndpoint = false;
      else if (e instanceof ApiError && e.code === 'invalid') {
        if (seq === previewSeq) fill(notes, [...problems, t('preview.invalid', e.message)].map((p) => h('li', {}, p)));
      }
    }
  }
  if (en === null) {
    if (canMark(cp())) {
      en = markLabel(cp(), built.label, null);
      fr = markLabel(cp(), built.label, 'fr');
    } else {
      en = plainMarking(cp(), built.label, 'en');
      fr = plainMarking(cp(), built.label, 'fr');
      approximate = true;
    }
  }
  if (seq !== previewSeq) return;
  // A national label takes its equivalent's colours (the node's policy
  // gives them), with its Japanese marking and its equivalent under it.
  const colourOf = national()
    ? cp().classifications.find((c) => c.name === built.label.classification)?.equivalent?.classification
    : built.label.classification;
  const b = banner(colourOf || built.label.classification, en, fr, 'preview');
  b.id = 'preview-banner';
  fill(box, b, marks ? nationalMarks(marks) : null);
  document.getElementById('preview-caption').textContent = approximate ? t('preview.approximate') : t('preview.caption');
  relabel(box);
}

function postOnCtrlEnter(ev) {
  if (ev.key === 'Enter' && (ev.ctrlKey || ev.metaKey)) {
    ev.preventDefault();
    document.getElementById('compose-form').requestSubmit();
  }
}

function readBase64(file) {
  return new Promise((resolve, reject) => {
    const r = new FileReader();
    // "data:TYPE;base64,DATA": the data is what follows the first comma.
    r.onload = () => resolve(String(r.result).slice(String(r.result).indexOf(',') + 1));
    r.onerror = () => reject(r.error);
    r.readAsDataURL(file);
  });
}

function showChosen() {
  const box = document.getElementById('compose-file-chosen');
  if (!box) return;
  if (!attached) {
    box.hidden = true;
    fill(box);
    return;
  }
  box.hidden = false;
  fill(box, clipIcon(), ' ',
    h('strong', { class: 'file-name' }, attached.name), ' ',
    h('span', { class: 'muted file-what' }, `${attached.mediaType}, ${formatSize(attached.size)}`),
    attached.data === null ? h('span', { class: 'muted small' }, ` ${t('file.reading')}`) : null, ' ',
    h('button', { type: 'button', class: 'ghost small', id: 'compose-file-remove', onclick: removeFile,
      'aria-label': t('file.removeOf', attached.name) }, t('file.remove')));
}

function removeFile() {
  attached = null;
  reading = null;
  const input = document.getElementById('compose-file');
  input.value = '';
  showChosen();
  document.getElementById('compose-status').textContent = t('file.removed');
  input.focus();
}

async function pickFile(ev) {
  const input = ev.target;
  const file = input.files && input.files[0];
  const err = document.getElementById('compose-error');
  document.getElementById('compose-status').textContent = '';
  if (!file) return;
  const why = refuseFile(file, bodyLimit());
  if (why) {
    attached = null;
    reading = null;
    input.value = '';
    showChosen();
    err.textContent = why;
    return;
  }
  err.textContent = '';
  const doc = { name: file.name, mediaType: mediaTypeOf(file.name, file.type), size: file.size, data: null };
  attached = doc;
  showChosen();
  const read = readBase64(file).then((data) => {
    if (attached === doc) { doc.data = data; showChosen(); }
  }, () => {
    if (attached === doc) {
      attached = null;
      input.value = '';
      showChosen();
      err.textContent = t('file.unreadable', file.name);
    }
  });
  reading = read;
  await read;
  if (reading === read) reading = null;
}

async function submit(ev) {
  ev.preventDefault();
  const err = document.getElementById('compose-error');
  const bodyEl = document.getElementById('compose-body');
  const btn = document.getElementById('compose-post');
  err.textContent = '';
  document.getElementById('compose-status').textContent = '';
  delete document.getElementById('compose-status').dataset.itemId;
  if (!state.current) { err.textContent = t('compose.noChannel'); return; }
  if (!bodyEl.value.trim()) { err.textContent = t('compose.empty'); bodyEl.focus(); return; }
  const { label } = buildLabel(cp(), cc(), classification, chosen);
  btn.disabled = true;
  try {
    const wanted = attached;
    if (reading) await reading;
    if (wanted && (attached !== wanted || wanted.data === null)) {
      if (!err.textContent) err.textContent = t('file.notRead');
      return;
    }
    const doc = attached;
    const size = requestBytes(Api.postBody(label, bodyEl.value, doc));
    if (size > bodyLimit()) {
      err.textContent = t('compose.tooBig', Boolean(doc), formatSize(size), formatSize(bodyLimit()));
      return;
    }
    const res = await state.api.post(state.current, label, bodyEl.value, doc);
    bodyEl.value = '';
    err.textContent = '';
    const status = document.getElementById('compose-status');
    status.textContent = t('compose.posted', res.marking, doc ? `${doc.name} (${formatSize(doc.size)})` : null);
    status.dataset.itemId = String(res.id);
    if (doc) {
      attached = null;
      document.getElementById('compose-file').value = '';
      showChosen();
    }
    onPosted(res);
  } catch (e) {
    // The node's 403 does not say which part of the label failed: the
    // picker knows, so it says (else the node's words).
    const lock = e instanceof ApiError && e.code === 'forbidden'
      ? authorCannotRead(cp(), cc(), label) : null;
    err.textContent = lock ? t('err.forbiddenPart', lock) : plainWords(e);
  } finally {
    btn.disabled = false;
  }
}

/** Called when the language changes: the form is drawn again in it,
 *  keeping the message and the document. */
export function composeLangChanged() {
  if (!document.getElementById('compose-form') || !state.policy) return;
  const body = document.getElementById('compose-body').value;
  renderForm();
  document.getElementById('compose-body').value = body;
  showChosen();
}
