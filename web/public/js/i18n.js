// i18n.js — the interface's words in English and French.
//
// Every string the page shows (not the node's data: bodies, names,
// markings) comes from t(key, ...args), looked up in the message table of
// the current language (i18n-en.js, i18n-fr.js); a message is a string or
// a function of its arguments. Static text of index.html carries
// data-i18n="key" (its text) and data-i18n-attr="attr:key;attr:key"; the
// page calls translateStatic() on a language change. Data from the node is
// marked translate="no" (the browser tests use that to find UI text).
// No DOM or storage at import: picker.js uses it under node's tests too.
import { en } from './i18n-en.js';
import { fr } from './i18n-fr.js';

export const MESSAGES = { en, fr };

/** The message `key` in `lang` (default: the page's language). */
export function tl(lang, key, ...args) {
  const m = MESSAGES[lang]?.[key] ?? en[key];
  if (m === undefined) return key;
  return typeof m === 'function' ? m(...args) : m;
}

let current = 'en';

/** The page's language ('en' | 'fr'); state.setLang() sets it. */
export function setLanguage(lang) {
  current = lang === 'fr' ? 'fr' : 'en';
}

export function t(key, ...args) {
  return tl(current, key, ...args);
}

/** Translate index.html's static text under `root`. */
export function translateStatic(root = document) {
  for (const el of root.querySelectorAll('[data-i18n]')) el.textContent = t(el.dataset.i18n);
  for (const el of root.querySelectorAll('[data-i18n-attr]')) {
    for (const pair of el.dataset.i18nAttr.split(';')) {
      const [attr, key] = pair.split(':');
      el.setAttribute(attr, t(key));
    }
  }
}

/** A list in words: "A, B and C" / "A, B et C". */
export function listWords(items) {
  if (items.length < 2) return items.join('');
  return `${items.slice(0, -1).join(', ')} ${t('and')} ${items[items.length - 1]}`;
}
