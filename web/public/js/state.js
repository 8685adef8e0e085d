// state.js — what the page knows: session, policy, user, language, zone.
//
// One plain object shared by the views; the language and token live in
// sessionStorage so a reload in the same tab keeps them; the choice of
// times in UTC is remembered in localStorage (it is a habit, not a session).

import { setLanguage } from './i18n.js';

export const state = {
  api: null,
  me: null,
  policy: null,
  presets: [],        // named releases: [{name, en, fr, tagSet, values}] (presets.js)
  channels: [],
  current: null,      // channel name shown, or null while showing search results
  shown: [],          // the items listed (re-rendered on a language or zone change)
  lang: sessionStorage.getItem('liaison.lang') === 'fr' ? 'fr' : 'en',
  utc: localStorage.getItem('liaison.utc') === '1',
  unread: new Map(),  // channel -> count of live items not yet seen
  seen: new Set(),    // item ids shown in the current list (opaque strings)
};

setLanguage(state.lang);

export function setLang(lang) {
  state.lang = lang === 'fr' ? 'fr' : 'en';
  setLanguage(state.lang);
  sessionStorage.setItem('liaison.lang', state.lang);
}

export function setUtc(on) {
  state.utc = Boolean(on);
  localStorage.setItem('liaison.utc', state.utc ? '1' : '0');
}
