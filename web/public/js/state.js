// state.js — what the page knows: session, policy, user, language.
//
// One plain object shared by the views; the language and token live in
// sessionStorage so a reload in the same tab keeps them.

export const state = {
  api: null,
  me: null,
  policy: null,
  channels: [],
  current: null,      // channel name shown, or null while showing search results
  lang: sessionStorage.getItem('liaison.lang') === 'fr' ? 'fr' : 'en',
  unread: new Map(),  // channel -> count of live items not yet seen
  seen: new Set(),    // item ids shown in the current list
};

export function setLang(lang) {
  state.lang = lang === 'fr' ? 'fr' : 'en';
  sessionStorage.setItem('liaison.lang', state.lang);
}
