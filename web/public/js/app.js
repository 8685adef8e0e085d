// app.js — the page's entry point: sign-in, loading, navigation (the
// address's #channel=, back and forward), the live stream, the language
// and time-zone switches. Views live in views/*.js; the node's API in
// api.js; the picker's rules in picker.js; markings in marking.js; words
// in i18n.js.
import { Api, plainWords } from './api.js';
import { state, setLang, setUtc } from './state.js';
import { t, tl, translateStatic } from './i18n.js';
import { loadPresets } from './presets.js';
import { relabel } from './views/banner.js';
import { renderChannels } from './views/channels.js';
import { showItems, prependItem, redrawItems, clearItems } from './views/items.js';
import { renderCompose, composeLangChanged, composeSignedOut } from './views/compose.js';
import { mountPasswordForm, passwordSignIn, resumeSession, endSession, signInFields,
  clearSignInFields } from './views/signin.js';
import { mountUsers } from './views/users.js';
import { mountAudit } from './views/audit.js';
import { mountPeers } from './views/peers.js';
import { mountReleases, releaseNotice, releasesResync } from './views/release.js';

const $ = (id) => document.getElementById(id);
const TOKEN_KEY = 'liaison.token';
let stopStream = null;
let loadSeq = 0;      // the list being loaded (a late answer for an older one is dropped)
let lastQuery = null; // the search on screen, for redrawing its words

/** Sign in with a token, or (token '') in the web session whose CSRF
 *  token is `csrf`. */
async function signIn(token, csrf = null) {
  const api = new Api('', token);
  api.csrf = csrf;
  const [me, policy, channels] = await Promise.all([api.me(), api.policy(), api.channels()]);
  const presets = await loadPresets(policy);
  Object.assign(state, { api, me, policy, presets, channels: channels.channels || [] });
  if (token) sessionStorage.setItem(TOKEN_KEY, token);
}

function channelFromHash() {
  if (!location.hash.startsWith('#channel=')) return null;
  try { return decodeURIComponent(location.hash.slice(9)); } catch { return null; }
}

/** A clearance listing its classifications reads "{UNCLASSIFIED|RESTRICTED|
 *  …|SECRET} Releasable to JPN" from the node: said "up to SECRET …" here
 *  (the list is in hierarchy order, so the last is the highest). */
function clearanceWords(marking, lang) {
  return marking.replace(/\{([^{}|]*(?:\|[^{}|]*)+)\}/g, (_, list) => tl(lang, 'clearance.upTo', list.split('|').pop().trim()));
}

function showApp() {
  $('signin').hidden = true;
  $('app').hidden = false;
  const { me, policy } = state;
  $('me-name').textContent = me.user;
  $('me-org').textContent = me.organisation;
  $('policy-name').textContent = policy.name;
  const cm = $('me-clearance');
  cm.dataset.markingEn = clearanceWords(me.clearance_marking || '', 'en');
  cm.dataset.markingFr = clearanceWords(me.clearance_marking_fr || me.clearance_marking || '', 'fr');
  applyLang();
  const first = channelFromHash();
  openChannel(state.channels.some((c) => c.name === first) ? first : state.channels[0]?.name, { replace: true });
  stopStream = state.api.stream(onLive, onStreamState, releaseNotice);
  mountUsers(state);
  mountAudit(state);
  mountPeers(state);
  mountReleases();
}

let streamState = 'connecting';
function showStreamState() {
  const el = $('live');
  el.textContent = t(`live.${streamState}`);
  el.dataset.state = streamState;
}

function onStreamState(s) {
  if (s === 'unauthorized') {
    // The token was withdrawn (or the user removed): back to sign-in, said plainly.
    stopStream?.();
    sessionStorage.removeItem(TOKEN_KEY);
    showSignIn(t('session.ended'));
    return;
  }
  const back = s === 'live' && streamState === 'reconnecting';
  streamState = s === 'live' ? 'live' : 'reconnecting';
  showStreamState();
  // Notices are not replayed: what changed while away is read again.
  if (back) releasesResync();
}

function onLive(item) {
  if (state.current !== null && item.channel === state.current && $('items').dataset.channel === state.current) {
    prependItem(item);
    relabel($('items'));
  } else if (item.channel) {
    state.unread.set(item.channel, (state.unread.get(item.channel) || 0) + 1);
    renderChannels(openChannel);
  }
}

/** One's own new item goes on top at once (the stream may bring it too;
 *  prependItem shows an id once). */
async function onPosted(res) {
  const name = state.current;
  try {
    const item = await state.api.item(res.id);
    if (state.current === name && $('items').dataset.channel === name) {
      prependItem({ channel: name, ...item });
      relabel($('items'));
    }
  } catch { /* the stream or the next load shows it */ }
}

/** Show channel `name`. The address gets #channel=NAME (a new history entry
 *  unless `replace`), so back and forward move between channels. The list is
 *  emptied at once: items are never shown under another channel's name. */
async function openChannel(name, { replace = false, fromHistory = false } = {}) {
  if (!name) return;
  const seq = ++loadSeq;
  state.current = name;
  lastQuery = null;
  state.unread.delete(name);
  const hash = `#channel=${encodeURIComponent(name)}`;
  if (!fromHistory && location.hash !== hash) {
    if (replace) history.replaceState(null, '', hash);
    else history.pushState(null, '', hash);
  }
  const ch = state.channels.find((c) => c.name === name);
  $('view-title').textContent = `#${name}`;
  $('view-title').setAttribute('translate', 'no');
  $('view-purpose').textContent = ch?.purpose || '';
  $('view-purpose').setAttribute('translate', 'no');
  $('compose').hidden = false;
  $('main').classList.remove('searching');
  $('items').dataset.channel = '';
  clearItems(t('items.loading'));
  renderChannels(openChannel);
  renderCompose(onPosted);
  try {
    const items = await state.api.items(name);
    if (seq !== loadSeq) return;
    $('items').dataset.channel = name;
    showItems(items.map((i) => ({ channel: name, ...i })), 'items.empty');
  } catch (e) {
    if (seq !== loadSeq) return;
    clearItems(t('items.failed', plainWords(e)));
  }
}

function searchWords() {
  $('view-title').textContent = t('search.title');
  $('view-title').removeAttribute('translate');
  $('view-purpose').textContent = t('search.purpose', lastQuery);
  $('view-purpose').removeAttribute('translate');
}

async function runSearch(q) {
  const seq = ++loadSeq;
  state.current = null;
  lastQuery = q;
  renderChannels(openChannel);
  searchWords();
  $('compose').hidden = true;
  $('main').classList.add('searching');
  $('items').dataset.channel = '';
  clearItems(t('search.running'));
  try {
    const res = await state.api.search(q);
    if (seq !== loadSeq) return;
    showItems(res.items || [], 'search.none');
  } catch (e) {
    if (seq === loadSeq) clearItems(t('items.failed', plainWords(e)));
  }
}

function applyZone() {
  $('zone-local').setAttribute('aria-pressed', String(!state.utc));
  $('zone-utc').setAttribute('aria-pressed', String(state.utc));
}

/** Put the whole page in the current language (and zone). */
function applyLang() {
  document.documentElement.lang = state.lang;
  $('lang-en').setAttribute('aria-pressed', String(state.lang === 'en'));
  $('lang-fr').setAttribute('aria-pressed', String(state.lang === 'fr'));
  translateStatic();
  applyZone();
  if (state.me) {
    showStreamState();
    if (lastQuery !== null) searchWords();
    renderChannels(openChannel);
    if (!$('items').dataset.channel && state.current !== null) {
      $('list-status').textContent = t('items.loading');
    } else {
      redrawItems();
    }
    composeLangChanged();
  }
  relabel();
}

async function signOut() {
  stopStream?.();
  sessionStorage.removeItem(TOKEN_KEY);
  composeSignedOut();
  if (state.api?.csrf) await endSession(state.api.csrf);
  history.replaceState(null, '', location.pathname);
  location.reload();
}

function showSignIn(message = '') {
  $('app').hidden = true;
  $('signin').hidden = false;
  $('signin-error').textContent = message;
  $('token').focus();
}

function wire() {
  // Skip links move focus without touching the URL's #channel=.
  for (const a of document.querySelectorAll('a.skip')) {
    a.addEventListener('click', (ev) => {
      ev.preventDefault();
      const target = document.getElementById(a.getAttribute('href').slice(1));
      if (target && !target.closest('[hidden]')) target.focus();
    });
  }
  $('signin-form').addEventListener('submit', async (ev) => {
    ev.preventDefault();
    const f = signInFields();
    if (!f.token && !(f.name && f.password)) {
      $('signin-error').textContent = t('signin.empty');
      return;
    }
    $('signin-error').textContent = t('signin.busy');
    try {
      if (f.token) await signIn(f.token);
      else await signIn('', (await passwordSignIn(f.name, f.password)).csrf);
      clearSignInFields();
      $('signin-error').textContent = '';
      showApp();
    } catch (e) {
      $('signin-error').textContent = plainWords(e);
    }
  });
  $('lang-en').addEventListener('click', () => { setLang('en'); applyLang(); });
  $('lang-fr').addEventListener('click', () => { setLang('fr'); applyLang(); });
  $('zone-local').addEventListener('click', () => { setUtc(false); applyLang(); });
  $('zone-utc').addEventListener('click', () => { setUtc(true); applyLang(); });
  $('signout').addEventListener('click', signOut);
  $('search-form').addEventListener('submit', (ev) => {
    ev.preventDefault();
    const q = $('search-q').value.trim();
    if (q) runSearch(q);
  });
  // Back, forward, or an edited address: show the channel it names.
  window.addEventListener('hashchange', () => {
    if (!state.me) return;
    const name = channelFromHash();
    if (name && name !== state.current && state.channels.some((c) => c.name === name)) {
      openChannel(name, { fromHistory: true });
    }
  });
}

async function start() {
  mountPasswordForm();
  wire();
  document.documentElement.lang = state.lang;
  translateStatic();
  applyZone();
  const token = sessionStorage.getItem(TOKEN_KEY);
  const session = token ? null : await resumeSession();
  if (session) {
    try {
      await signIn('', session.csrf);
      return showApp();
    } catch (e) {
      return showSignIn(plainWords(e));
    }
  }
  if (!token) return showSignIn();
  try {
    await signIn(token);
    showApp();
  } catch (e) {
    sessionStorage.removeItem(TOKEN_KEY);
    showSignIn(plainWords(e));
  }
}


start();
