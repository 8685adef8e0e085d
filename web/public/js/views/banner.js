// views/banner.js — the marking banner of a label (XEP-0258 style): the
// marking text on the classification's colours, in English or French.
import { h } from '../dom.js';
import { bannerColours, canMark, markLabel } from '../marking.js';
import { state } from '../state.js';
import { t } from '../i18n.js';

/** The marking of an item in the current language: the node's (engine)
 *  markings first; the client-side rendering only if the node gave none. */
export function itemMarking(item, lang = state.lang) {
  if (lang === 'fr') {
    if (item.marking_fr) return item.marking_fr;
    if (state.policy && canMark(state.policy) && item.label) return markLabel(state.policy, item.label, 'fr');
  }
  return item.marking || '';
}

/** A banner element; it follows the language toggle (see relabel()). */
export function banner(classification, en, fr, extraClass = '') {
  const { background, foreground } = bannerColours(state.policy, classification);
  const el = h('div', { class: `banner ${extraClass}`.trim(), translate: 'no', dataset: { classification: classification || '' } });
  el.dataset.markingEn = en || '';
  el.dataset.markingFr = fr || en || '';
  el.style.backgroundColor = background;
  el.style.color = foreground;
  el.textContent = state.lang === 'fr' ? el.dataset.markingFr : el.dataset.markingEn;
  return el;
}

export function itemBanner(item, extraClass) {
  // An item under a national policy takes the colours of its equivalent's
  // classification: the node's policy gives the colours.
  return banner(item.equivalent?.classification || item.label?.classification, itemMarking(item, 'en'), itemMarking(item, 'fr'), extraClass);
}

/** Under a banner, what an item under another policy than the node's
 *  carries (docs/WEB.md, "National policies"): its Japanese marking
 *  (`markingJa`, lang="ja" so that the browser takes a Japanese font) and
 *  the marking of its equivalent under the node's policy (`equivalent`),
 *  the one the node decided its readers on. Nothing for other items. */
export function nationalMarks(item) {
  const out = [];
  if (item.markingJa) {
    out.push(h('div', { class: 'banner-ja', lang: 'ja', translate: 'no' }, item.markingJa));
  }
  const eq = item.equivalent;
  if (eq && eq.marking) {
    const m = h('span', { class: 'equivalent-marking', translate: 'no',
      dataset: { markingEn: eq.marking, markingFr: eq.markingFr || eq.marking } },
    state.lang === 'fr' ? (eq.markingFr || eq.marking) : eq.marking);
    out.push(h('div', { class: 'equivalent' }, t('item.equivalent', eq.policy || ''), ' ', m));
  }
  return out;
}

/** Show every banner and marking on the page in the current language. */
export function relabel(root = document) {
  for (const el of root.querySelectorAll('[data-marking-en]')) {
    el.textContent = state.lang === 'fr' ? el.dataset.markingFr : el.dataset.markingEn;
    el.lang = state.lang;
  }
}
