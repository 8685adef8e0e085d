// signin.js — signing in with a user name and password: the node's web
// session (POST/GET/DELETE /api/v1/session).
//
// The session lives in an HttpOnly cookie the page never sees; what the
// page keeps is the session's CSRF token, sent with every request that
// changes anything (api.js adds the X-CSRF-Token header when `api.csrf` is
// set). After a reload, GET /api/v1/session gives the token again while
// the cookie lasts. An access token (for programs) still works below the
// password form.

import { t } from '../i18n.js';
import { h } from '../dom.js';
import { ApiError } from '../api.js';

const $ = (id) => document.getElementById(id);

async function answer(res) {
  let data = null;
  try { data = await res.json(); } catch { data = null; }
  return data;
}

/** Sign in: {csrf} on success; throws an ApiError whose message is for
 *  people (its code is none of plainWords' own, so the message is shown as
 *  it is; a 429 says how long to wait). */
export async function passwordSignIn(name, password) {
  const res = await fetch('/api/v1/session', {
    method: 'POST', cache: 'no-store', credentials: 'same-origin',
    headers: { Accept: 'application/json', 'Content-Type': 'application/json' },
    body: JSON.stringify({ name, password }),
  });
  const data = await answer(res);
  if (res.status === 201 && data?.csrfToken) return { csrf: data.csrfToken };
  if (res.status === 429) {
    const wait = Number(res.headers.get('Retry-After')) || 0;
    const e = new ApiError(429, 'signin_throttled', `Too many failed sign-ins. Wait ${wait} seconds, then try again.`);
    e.wait = wait;
    throw e;
  }
  if (res.status === 401) throw new ApiError(401, 'signin_refused', 'The user name or the password is wrong.');
  throw new ApiError(res.status, data?.error || `http_${res.status}`, data?.message || `The node answered ${res.status}.`);
}

/** The open session's CSRF token, or null when there is none. */
export async function resumeSession() {
  try {
    const res = await fetch('/api/v1/session', {
      cache: 'no-store', credentials: 'same-origin', headers: { Accept: 'application/json' },
    });
    if (res.status !== 200) return null;
    const data = await answer(res);
    return data?.csrfToken ? { csrf: data.csrfToken } : null;
  } catch {
    return null;
  }
}

/** End the session on the node (the cookie stops working everywhere). */
export async function endSession(csrf) {
  try {
    await fetch('/api/v1/session', {
      method: 'DELETE', cache: 'no-store', credentials: 'same-origin',
      headers: { Accept: 'application/json', 'X-CSRF-Token': csrf || '' },
    });
  } catch { /* the node is gone: the session ends with it */ }
}

/** Put the user name and password fields at the top of the sign-in form
 *  (the access token stays, for programs' tokens and the demo's). */
export function mountPasswordForm() {
  const form = $('signin-form');
  if (!form || $('signin-name')) return;
  // Labelled data-i18n like the page's own text, so that translateStatic
  // gives them in the page's language (i18n-en.js, i18n-fr.js).
  const box = h('div', { class: 'signin-password' },
    h('label', { for: 'signin-name', dataset: { i18n: 'signin.name' } }, t('signin.name')),
    h('input', { id: 'signin-name', name: 'username', type: 'text', autocomplete: 'username', spellcheck: 'false' }),
    h('label', { for: 'signin-password', dataset: { i18n: 'signin.password' } }, t('signin.password')),
    h('input', { id: 'signin-password', name: 'password', type: 'password', autocomplete: 'current-password' }),
    h('p', { class: 'muted small', dataset: { i18n: 'signin.orToken' } }, t('signin.orToken')));
  const tokenLabel = form.querySelector('label[for="token"]');
  form.insertBefore(box, tokenLabel || form.firstChild);
}

/** What the form holds: {name, password} or {token}. */
export function signInFields() {
  const name = $('signin-name')?.value.trim() || '';
  const password = $('signin-password')?.value || '';
  return name || password ? { name, password } : { token: $('token').value.trim() };
}

export function clearSignInFields() {
  for (const id of ['signin-name', 'signin-password', 'token']) if ($(id)) $(id).value = '';
}
