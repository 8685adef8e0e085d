// app.js — the page's entry point: sign-in, loading, navigation, the live
// stream and the language toggle. Views live in views/*.js; the node's API
// in api.js; the picker's rules in picker.js; markings in marking.js.
import { Api, plainWords } from './api.js';
import { state, setLang } from './state.js';
import { relabel } from './views/banner.js';
import { renderChannels } from './views/channels.js';
import { showItems, prependItem } from './views/items.js';
import { renderCompose, composeLangChanged } from './views/compose.js';
import { mountPasswordForm, passwordSignIn, resumeSession, endSession, signInFields,
  clearSignInFields } from './views/signin.js';
import { mountUsers } from './views/users.js';

const $ = (id) => document.getElementById(id);
const TOKEN_KEY = 'liaison.token';
let stopStream = null;

/** Sign in with a token, or (token '') in the web session whose CSRF
 *  token is `csrf`. */
async function signIn(token, csrf = null) {
  const api = new Api('', token);
  api.csrf = csrf;
  const [me, policy, channels] = await Promise.all([api.me(), api.policy(), api.channels()]);
  Object.assign(state, { api, me, policy, channels: channels.channels || [] });
  if (token) sessionStorage.setItem(TOKEN_KEY, token);
}

function showApp() {
  $('signin').hidden = true;
  $('app').hidden = false;
  const { me, policy } = state;
  $('me-name').textContent = me.user;
  $('me-org').textContent = me.organisation;
  $('policy-name').textContent = `policy ${policy.name}`;
  const cm = $('me-clearance');
  cm.dataset.markingEn = me.clearance_marking || '';
  cm.dataset.markingFr = me.clearance_marking_fr || me.clearance_marking || '';
  applyLang();
  const first = location.hash.startsWith('#channel=') ? decodeURIComponent(location.hash.slice(9)) : null;
  openChannel(state.channels.some((c) => c.name === first) ? first : state.channels[0]?.name);
  stopStream = state.api.stream(onLive, onStreamState);
  mountUsers(state);
}

function onStreamState(s) {
  if (s === 'unauthorized') {
    // The token was withdrawn (or the user removed): back to sign-in, said plainly.
    stopStream?.();
    sessionStorage.removeItem(TOKEN_KEY);
    showSignIn('Your session has ended: the node no longer accepts this token. Sign in again.');
    return;
  }
  const el = $('live');
  el.textContent = s === 'live' ? 'live' : s === 'unauthorized' ? 'signed out' : 'reconnecting…';
  el.dataset.state = s;
}

function onLive(item) {
  if (state.current !== null && item.channel === state.current) {
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
    if (state.current === name) {
      prependItem({ channel: name, ...item });
      relabel($('items'));
    }
  } catch { /* the stream or the next load shows it */ }
}

async function openChannel(name) {
  if (!name) return;
  state.current = name;
  state.unread.delete(name);
  history.replaceState(null, '', `#channel=${encodeURIComponent(name)}`);
  const ch = state.channels.find((c) => c.name === name);
  $('view-title').textContent = `#${name}`;
  $('view-purpose').textContent = ch?.purpose || '';
  $('compose').hidden = false;
  $('main').classList.remove('searching');
  renderChannels(openChannel);
  renderCompose(onPosted);
  $('list-status').textContent = 'Loading…';
  try {
    const items = await state.api.items(name);
    if (state.current !== name) return;
    showItems(items.map((i) => ({ channel: name, ...i })), 'No items you may see in this channel yet.');
  } catch (e) {
    $('list-status').textContent = plainWords(e);
  }
}

async function runSearch(q) {
  state.current = null;
  renderChannels(openChannel);
  $('view-title').textContent = 'Search';
  $('view-purpose').textContent = `Items you may see that match “${q}”, best first.`;
  $('compose').hidden = true;
  $('main').classList.add('searching');
  $('list-status').textContent = 'Searching…';
  try {
    const res = await state.api.search(q);
    showItems(res.items || [], 'Nothing you may see matches.');
  } catch (e) {
    $('list-status').textContent = plainWords(e);
  }
}

function applyLang() {
  document.documentElement.lang = state.lang;
  $('lang-en').setAttribute('aria-pressed', String(state.lang === 'en'));
  $('lang-fr').setAttribute('aria-pressed', String(state.lang === 'fr'));
  relabel();
}

async function signOut() {
  stopStream?.();
  sessionStorage.removeItem(TOKEN_KEY);
  if (state.api?.csrf) await endSession(state.api.csrf);
  location.hash = '';
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
      $('signin-error').textContent = 'Enter your user name and password, or an access token.';
      return;
    }
    $('signin-error').textContent = 'Signing in…';
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
  $('lang-en').addEventListener('click', () => { setLang('en'); applyLang(); composeLangChanged(); });
  $('lang-fr').addEventListener('click', () => { setLang('fr'); applyLang(); composeLangChanged(); });
  $('signout').addEventListener('click', signOut);
  $('search-form').addEventListener('submit', (ev) => {
    ev.preventDefault();
    const q = $('search-q').value.trim();
    if (q) runSearch(q);
  });
}

async function start() {
  mountPasswordForm();
  wire();
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
