// views/compose.js — compose an item with the label picker.
//
// Classification first (only those the user's clearance holds), then the
// categories valid at it (picker.js decides), with the marking of the
// label being built shown live: asked of the node (POST
// /api/v1/labels/mark) when it has that endpoint, else computed here from
// the policy data. Errors from the node are shown in plain words.
import { h, fill } from '../dom.js';
import { state } from '../state.js';
import { plainWords, ApiError } from '../api.js';
import { bannerColours, canMark, markLabel, plainMarking } from '../marking.js';
import {
  catKey, heldClassifications, offeredTagSets, buildLabel, defaultChoices, authorCannotRead,
} from '../picker.js';
import { banner, relabel } from './banner.js';

let classification = null;
let chosen = new Set();
let markEndpoint = true;     // false once the node said it has no such route
let previewSeq = 0;
let onPosted = () => {};
const openSets = new Set();  // tag-set panels the user opened (kept across re-renders)
const filters = new Map();   // filter text per tag-set panel

function localName(cat) {
  const fr = (cat.markingData || []).find((m) => m.lang === 'fr' && m.phrase);
  return state.lang === 'fr' && fr ? fr.phrase : null;
}

/** Build the compose form for the current channel. */
export function renderCompose(posted) {
  onPosted = posted;
  const { policy, me } = state;
  const classes = heldClassifications(policy, me.clearance);
  if (!classification || !classes.some((c) => c.name === classification)) {
    classification = classes.length ? classes[Math.min(1, classes.length - 1)].name : null;
    chosen = defaultChoices(policy);
  }
  const root = document.getElementById('compose');
  fill(root,
    h('h2', { id: 'compose-title' }, 'New item', state.current ? h('span', { class: 'muted' }, ` in #${state.current}`) : null),
    h('form', { id: 'compose-form', class: 'compose-form', novalidate: true, onsubmit: submit },
      h('fieldset', { class: 'classes' },
        h('legend', {}, 'Classification'),
        h('div', { class: 'class-row' }, classes.map((c) => classChip(c)))),
      h('div', { id: 'tagsets' }),
      h('div', { class: 'preview-wrap' },
        h('span', { class: 'small muted', id: 'preview-caption' }, 'Marking of this label'),
        h('div', { id: 'preview', 'aria-live': 'polite', 'aria-describedby': 'preview-caption' }),
        h('ul', { id: 'label-notes', class: 'notes' })),
      h('label', { for: 'compose-body' }, 'Message'),
      h('textarea', { id: 'compose-body', rows: 2, required: true, placeholder: 'Write the message…' }),
      h('div', { class: 'actions' },
        h('p', { id: 'compose-error', class: 'error', role: 'alert' }),
        h('p', { id: 'compose-status', class: 'small muted', role: 'status' }),
        h('button', { type: 'submit', class: 'primary', id: 'compose-post' }, 'Post'))));
  renderTagSets();
}

function classChip(c) {
  const { background, foreground } = bannerColours(state.policy, c.name);
  const id = `cls-${c.lacv}`;
  const input = h('input', { type: 'radio', name: 'classification', id, value: c.name,
    checked: c.name === classification, onchange: () => { classification = c.name; renderTagSets(); } });
  const chip = h('label', { for: id, class: 'class-chip' }, c.name);
  chip.style.setProperty('--chip-bg', background);
  chip.style.setProperty('--chip-fg', foreground);
  return h('span', { class: 'class-opt' }, input, chip);
}

function renderTagSets() {
  const { policy, me } = state;
  const groups = offeredTagSets(policy, me.clearance, classification);
  // Choices no longer valid at this classification are dropped, and said so.
  const dropped = [];
  for (const g of groups) {
    for (const w of g.withheld) if (chosen.delete(catKey(w.cat))) dropped.push(w.cat.name);
  }
  const built = buildLabel(policy, me.clearance, classification, chosen);
  const box = document.getElementById('tagsets');
  // Releasability (enumerated permissive) first: it is what a desk officer sets most.
  const rank = (g) => (g.type === 'enumeratedPermissive' ? 0 : 1);
  fill(box, [...groups].sort((a, b) => rank(a) - rank(b)).map((g) => tagSetPanel(g, built)));
  if (dropped.length) {
    document.getElementById('compose-error').textContent =
      `Removed ${dropped.join(', ')}: not valid at ${classification}.`;
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
      h('label', { for: id, title: why || local || cat.name }, cat.name,
        local ? h('span', { class: 'muted small' }, ` ${local}`) : null,
        why ? h('span', { class: 'implied small' }, ' (auto)') : null));
  }));
  const applyFilter = (q) => {
    for (const el of grid.children) el.hidden = q !== '' && !el.textContent.toLowerCase().includes(q);
  };
  const filter = g.offered.length > 12
    ? h('input', { type: 'search', class: 'filter', placeholder: `Filter ${g.tagSet}`, 'aria-label': `Filter ${g.tagSet}`,
      value: filters.get(fsId) || '',
      oninput: (e) => { filters.set(fsId, e.target.value); applyFilter(e.target.value.trim().toLowerCase()); } })
    : null;
  applyFilter((filters.get(fsId) || '').trim().toLowerCase());
  const withheld = g.withheld.length
    ? h('p', { class: 'withheld small muted' }, `Not offered: ${g.withheld.map((w) => w.cat.name).join(', ')} (${[...new Set(g.withheld.map((w) => w.why))].join('; ')}).`)
    : null;
  const picked = g.offered.filter((c) => chosen.has(catKey(c)) || built.implied.has(catKey(c))).map((c) => c.name);
  const det = h('details', { class: 'tagset', id: fsId, open: openSets.has(fsId),
    dataset: { tagset: g.tagSet, type: g.type },
    ontoggle: (e) => { if (e.target.open) openSets.add(fsId); else openSets.delete(fsId); } },
  h('summary', {}, h('span', { class: 'ts-name' }, g.tagSet), ' ',
    h('span', { class: 'ts-picked' }, picked.length ? picked.join(', ') : 'none')),
  h('fieldset', {}, h('legend', { class: 'visually-hidden' }, g.tagSet), filter,
    g.offered.length ? grid : h('p', { class: 'small muted' }, 'Nothing to offer at this classification.'), withheld));
  return det;
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
  const lock = authorCannotRead(state.policy, state.me.clearance, built.label);
  if (lock) problems.push(`You could not read this yourself (${lock}); the node will refuse it.`);
  // Guidance for the rules the picker does not fill in (oneOrMore, onlyOne),
  // unless a problem already says it.
  const guidance = (built.guidance || []).filter((g) => !problems.some((p) => p.startsWith(g.split(':')[0])));
  fill(notes, [...problems.map((p) => h('li', {}, p)),
    ...guidance.map((g) => h('li', { class: 'guidance small muted' }, g))]);

  let en = null;
  let fr = null;
  let approximate = false;
  if (markEndpoint) {
    try {
      const m = await state.api.mark(built.label);
      en = m.marking;
      fr = m.markingFr ?? m.marking_fr ?? m.marking;
    } catch (e) {
      if (e instanceof ApiError && (e.status === 404 || e.status === 405)) markEndpoint = false;
      else if (e instanceof ApiError && e.code === 'invalid') {
        if (seq === previewSeq) fill(notes, [...problems, `Not valid yet: ${e.message}`].map((p) => h('li', {}, p)));
      }
    }
  }
  if (en === null) {
    if (canMark(state.policy)) {
      en = markLabel(state.policy, built.label, null);
      fr = markLabel(state.policy, built.label, 'fr');
    } else {
      en = plainMarking(state.policy, built.label, 'en');
      fr = plainMarking(state.policy, built.label, 'fr');
      approximate = true;
    }
  }
  if (seq !== previewSeq) return;
  const b = banner(built.label.classification, en, fr, 'preview');
  b.id = 'preview-banner';
  fill(box, b);
  document.getElementById('preview-caption').textContent = approximate
    ? 'Marking of this label (approximate: this node does not preview markings; the posted item shows the exact one)'
    : 'Marking of this label';
  relabel(box);
}

async function submit(ev) {
  ev.preventDefault();
  const err = document.getElementById('compose-error');
  const bodyEl = document.getElementById('compose-body');
  const btn = document.getElementById('compose-post');
  err.textContent = '';
  document.getElementById('compose-status').textContent = '';
  if (!state.current) { err.textContent = 'Choose a channel to post in.'; return; }
  if (!bodyEl.value.trim()) { err.textContent = 'Write a message first.'; bodyEl.focus(); return; }
  const { label } = buildLabel(state.policy, state.me.clearance, classification, chosen);
  btn.disabled = true;
  try {
    const res = await state.api.post(state.current, label, bodyEl.value);
    bodyEl.value = '';
    err.textContent = '';
    document.getElementById('compose-status').textContent = `Posted item ${res.id} as ${res.marking}.`;
    onPosted(res);
  } catch (e) {
    err.textContent = plainWords(e);
  } finally {
    btn.disabled = false;
  }
}

/** Called when the language changes: names of nations follow it. */
export function composeLangChanged() {
  if (document.getElementById('tagsets') && state.policy) renderTagSets();
}
