// views/banner.js — the marking banner of a label (XEP-0258 style): the
// marking text on the classification's colours, in English or French.
import { h } from '../dom.js';
import { bannerColours, canMark, markLabel } from '../marking.js';
import { state } from '../state.js';

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
  return banner(item.label?.classification, itemMarking(item, 'en'), itemMarking(item, 'fr'), extraClass);
}

/** Show every banner and marking on the page in the current language. */
export function relabel(root = document) {
  for (const el of root.querySelectorAll('[data-marking-en]')) {
    el.textContent = state.lang === 'fr' ? el.dataset.markingFr : el.dataset.markingEn;
    el.lang = state.lang;
  }
}
