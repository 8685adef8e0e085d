// people.test.mjs — signing in and accounts in the page (issue 11), in
// Debian's chromium against a real node (skipped with the mock node, which
// has no sessions).
//
// Sign in with a user name and password (the demo credentials list one per
// user); a wrong password is refused and, after a few, slowed down (the
// node answers 429 with Retry-After and the page says how long to wait);
// a state-changing request without the session's CSRF token is refused;
// sign-out ends the session on the node (the old cookie no longer works);
// a user an administrator disables is thrown out of an open page; the
// administrator's users view lists accounts and disables one (screenshot),
// and its panel for one user sets roles, a clearance (one the policy
// refuses is refused with the node's reason), a new password, revokes a
// named token and removes the user, every act audited (screenshots
// docs/img/web-users.png and web-users-fr.png with LIAISON_DOCS_IMG=1).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { startNode, launch, outDir, docsImgDir } from './harness.mjs';

let node;
let chrome;
const byName = (name) => node.users.find((u) => u.user === name);

before(async () => {
  node = await startNode();
  if (node.real) chrome = await launch();
});

after(async () => {
  await chrome?.close();
  node?.close();
});

/** A fresh page at the sign-in form (nothing signed in). */
async function freshPage() {
  const context = await chrome.browser.newContext({ viewport: { width: 1366, height: 820 } });
  const page = await context.newPage();
  page.errors = [];
  page.on('pageerror', (e) => page.errors.push(String(e)));
  await page.goto(node.url + '/');
  await page.waitForSelector('#signin:not([hidden])');
  return page;
}

async function passwordSignIn(page, user, password) {
  await page.fill('#signin-name', user);
  await page.fill('#signin-password', password);
  await page.click('#signin-form button[type=submit]');
}

async function signedInWithPassword(user) {
  const page = await freshPage();
  await passwordSignIn(page, user.user, user.password);
  await page.waitForSelector('#app:not([hidden])');
  await page.waitForSelector('#live[data-state=live]');
  return page;
}

const asAdmin = (method, p, body) => fetch(node.url + p, {
  method,
  headers: { Authorization: `Bearer ${byName('marco.bellini').token}`, 'Content-Type': 'application/json' },
  body: body ? JSON.stringify(body) : undefined,
});

test('a user signs in with name and password; the session cookie is HttpOnly, Secure, SameSite=Strict', { skip: !process.env.LIAISON_URL }, async () => {
  const kenji = byName('kenji.watanabe');
  assert.ok(kenji.password, 'the demo credentials list a password');
  const page = await signedInWithPassword(kenji);
  assert.equal(await page.textContent('#me-name'), 'kenji.watanabe');
  const cookies = await page.context().cookies();
  const c = cookies.find((k) => k.name === 'lsn_session');
  assert.ok(c, 'the session cookie is set');
  assert.equal(c.httpOnly, true);
  assert.equal(c.secure, true);
  assert.equal(c.sameSite, 'Strict');
  assert.equal(await page.evaluate(() => document.cookie.includes('lsn_session')), false,
    'no script can read the session cookie');
  // A reload keeps the session (the page asks the node for its CSRF token again).
  await page.reload();
  await page.waitForSelector('#app:not([hidden])');
  assert.deepEqual(page.errors, []);
  await page.context().close();
});

test('a state-changing request without the session\'s CSRF token is refused', { skip: !process.env.LIAISON_URL }, async () => {
  const page = await signedInWithPassword(byName('kenji.watanabe'));
  const status = await page.evaluate(async () => {
    const res = await fetch('/api/v1/labels/mark', {
      method: 'POST', headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({ label: { policy: 'NATO', classification: 'UNCLASSIFIED' } }),
    });
    return res.status;
  });
  assert.equal(status, 403, 'a post with the cookie alone is refused');
  await page.context().close();
});

test('a wrong password is refused, and repeated failures are slowed down', { skip: !process.env.LIAISON_URL }, async () => {
  const page = await freshPage();
  for (let i = 0; i < 4; i++) {
    await passwordSignIn(page, 'lars.jensen', `wrong password ${i}`);
    await page.waitForFunction(() => /wrong/.test(document.getElementById('signin-error').textContent));
    await page.evaluate(() => { document.getElementById('signin-error').textContent = ''; });
  }
  // The right password now waits too: the node answered 429 with Retry-After.
  await passwordSignIn(page, 'lars.jensen', byName('lars.jensen').password);
  await page.waitForFunction(() => /Wait \d+ seconds/.test(document.getElementById('signin-error').textContent));
  assert.equal(await page.isHidden('#app'), true);
  await page.context().close();
});

test('sign-out ends the session on the node: the old cookie no longer works', { skip: !process.env.LIAISON_URL }, async () => {
  const page = await signedInWithPassword(byName('sarah.mitchell'));
  const cookie = (await page.context().cookies()).find((k) => k.name === 'lsn_session');
  const before = await fetch(node.url + '/api/v1/me', { headers: { Cookie: `lsn_session=${cookie.value}` } });
  assert.equal(before.status, 200);
  await page.click('#signout');
  await page.waitForSelector('#signin:not([hidden])');
  const afterOut = await fetch(node.url + '/api/v1/me', { headers: { Cookie: `lsn_session=${cookie.value}` } });
  assert.equal(afterOut.status, 401, 'the old cookie is refused after sign-out');
  await page.context().close();
});

test('a user an administrator disables is thrown out of an open page', { skip: !process.env.LIAISON_URL }, async () => {
  const page = await signedInWithPassword(byName('aroha.ngata'));
  const res = await asAdmin('PATCH', '/api/v1/users/aroha.ngata', { status: 'disabled' });
  assert.equal(res.status, 200);
  await page.waitForSelector('#signin:not([hidden])', { timeout: 20000 });
  assert.match(await page.textContent('#signin-error'), /ended|sign in/i);
  assert.equal((await asAdmin('PATCH', '/api/v1/users/aroha.ngata', { status: 'active' })).status, 200);
  await page.context().close();
});

test('the administrator\'s users view lists accounts and disables one', { skip: !process.env.LIAISON_URL }, async () => {
  const page = await signedInWithPassword(byName('marco.bellini'));
  await page.click('#users-open');
  await page.waitForSelector('#users-dialog tr[data-user="mere.tawhiri"]');
  assert.equal(await page.getAttribute('#users-dialog tr[data-user="mere.tawhiri"]', 'data-status'), 'active');
  assert.equal(await page.locator('#users-dialog tr[data-user="marco.bellini"] button').count(), 0,
    'an administrator is not offered to disable themself');
  await page.screenshot({ path: path.join(outDir, 'users.png') });
  await page.click('#users-dialog tr[data-user="mere.tawhiri"] button[data-to="disabled"]');
  await page.waitForSelector('#users-dialog tr[data-user="mere.tawhiri"][data-status="disabled"]');
  const res = await fetch(node.url + '/api/v1/me', { headers: { Authorization: `Bearer ${byName('mere.tawhiri').token}` } });
  assert.equal(res.status, 401, 'the disabled user\'s token stops at once');
  // A member is not offered the view.
  const member = await signedInWithPassword(byName('james.whitfield'));
  assert.equal(await member.locator('#users-open').count(), 0);
  await member.context().close();
  await page.context().close();
});

test('the administrator\'s users view does what the CLI does: roles, clearance (checked by the policy), password, tokens, removal', { skip: !process.env.LIAISON_URL }, async () => {
  const who = 'mette.sorensen';
  const target = byName(who);
  // A named token to list and revoke.
  const made = await asAdmin('POST', `/api/v1/users/${who}/tokens`, { name: 'exporter' });
  assert.equal(made.status, 201);
  const token = (await made.json()).token;
  const page = await signedInWithPassword(byName('marco.bellini'));
  page.on('dialog', (dl) => dl.accept());
  await page.click('#users-open');
  await page.click(`#users-dialog tr[data-user="${who}"] button[data-manage="${who}"]`);
  await page.waitForSelector(`#user-manage[data-user="${who}"]`);
  assert.match(await page.textContent('#manage-tokens'), /exporter/);
  await page.screenshot({ path: path.join(docsImgDir, 'web-users.png') });

  // Roles.
  await page.check('#user-manage input[name=role][value=auditor]');
  await page.click('#manage-roles-save');
  await page.waitForFunction((n) => document.getElementById('users-status').textContent.includes(`${n}'s roles`), who);
  let u = await (await asAdmin('GET', `/api/v1/users/${who}`)).json();
  assert.ok(u.roles.includes('auditor'), `roles now ${u.roles}`);

  // A clearance the policy refuses is refused with the node's reason; a good one is set.
  const good = JSON.parse(await page.inputValue('#manage-clearance'));
  const bad = { ...good, classifications: ['ULTRA SECRET'] };
  await page.fill('#manage-clearance', JSON.stringify(bad));
  await page.click('#manage-clearance-save');
  await page.waitForFunction(() => /ULTRA/i.test(document.getElementById('users-status').textContent));
  u = await (await asAdmin('GET', `/api/v1/users/${who}`)).json();
  assert.deepEqual(u.clearance.classifications, good.classifications, 'the refused clearance is not stored');
  const lower = { ...good, classifications: ['UNCLASSIFIED', 'RESTRICTED'] };
  await page.fill('#manage-clearance', JSON.stringify(lower));
  await page.click('#manage-clearance-save');
  await page.waitForFunction((n) => document.getElementById('users-status').textContent.includes(`${n}'s clearance`), who);
  u = await (await asAdmin('GET', `/api/v1/users/${who}`)).json();
  assert.deepEqual(u.clearance.classifications, ['UNCLASSIFIED', 'RESTRICTED']);

  // A new password: the old one stops, the new one signs in.
  const fresh = 'a-new-passphrase-for-mette';
  await page.fill('#manage-password', fresh);
  await page.click('#manage-password-save');
  await page.waitForFunction((n) => document.getElementById('users-status').textContent.includes(`${n} has a new password`), who);
  const signin = (pw) => fetch(node.url + '/api/v1/session', { method: 'POST',
    headers: { 'Content-Type': 'application/json' }, body: JSON.stringify({ name: who, password: pw }) });
  assert.notEqual((await signin(target.password)).status, 201, 'the old password no longer signs in');
  assert.equal((await signin(fresh)).status, 201, 'the new one does');

  // The named token is revoked.
  await page.click('#manage-tokens button[data-revoke="exporter"]');
  await page.waitForFunction(() => document.getElementById('users-status').textContent.includes('exporter'));
  const me = await fetch(node.url + '/api/v1/me', { headers: { Authorization: `Bearer ${token}` } });
  assert.equal(me.status, 401, 'the revoked token stops at once');

  // A smart card: bound by subject under the CA whose certificate is given
  // (the repository's test node certificate stands for the CA), then unbound.
  const caPem = fs.readFileSync(path.resolve(path.dirname(fileURLToPath(import.meta.url)),
    '../../fuzz/binding-node/node.crt'), 'utf8');
  await page.fill('#manage-cert-subject', 'CN=Mette Sorensen, O=Embassy of Denmark, C=DK');
  await page.fill('#manage-cert-issuer', caPem);
  await page.click('#manage-cert-bind-subject');
  await page.waitForFunction((n) => document.getElementById('users-status').textContent.includes(`${n} is bound`), who);
  u = await (await asAdmin('GET', `/api/v1/users/${who}`)).json();
  assert.equal(u.certificateSubject, 'CN=Mette Sorensen,O=Embassy of Denmark,C=DK', 'kept in canonical form');
  assert.match(await page.textContent('#manage-cert-now'), /CN=Mette Sorensen,O=Embassy of Denmark,C=DK/);
  await page.click('#manage-cert-unbind');
  await page.waitForFunction((n) => document.getElementById('users-status').textContent.includes(`${n} is bound to no`), who);
  u = await (await asAdmin('GET', `/api/v1/users/${who}`)).json();
  assert.equal(u.certificate, false);

  // French, for the docs.
  await page.keyboard.press('Escape');
  await page.click('#lang-fr');
  await page.waitForFunction(() => document.documentElement.lang === 'fr');
  await page.click('#users-open');
  await page.click(`#users-dialog tr[data-user="${who}"] button[data-manage="${who}"]`);
  await page.waitForSelector(`#user-manage[data-user="${who}"]`);
  assert.match(await page.textContent('#user-manage-title'), /Gérer/);
  await page.screenshot({ path: path.join(docsImgDir, 'web-users-fr.png') });

  // Removal: the user's token stops; the row says removed.
  await page.click('#manage-remove');
  await page.waitForSelector(`#users-dialog tr[data-user="${who}"][data-status="removed"]`);
  const gone = await fetch(node.url + '/api/v1/me', { headers: { Authorization: `Bearer ${target.token}` } });
  assert.equal(gone.status, 401, 'a removed user\'s token stops at once');
  // Every act is audited.
  const audit = await (await fetch(node.url + `/api/v1/audit?object=${encodeURIComponent(`user:${who}`)}`,
    { headers: { Authorization: `Bearer ${byName('marco.bellini').token}` } })).json();
  const actions = new Set((audit.records || []).map((r) => r.action));
  for (const a of ['user.set-roles', 'user.set-clearance', 'user.passwd', 'token.revoke', 'user.set-certificate', 'user.remove']) {
    assert.ok(actions.has(a), `audited: ${a} (${[...actions]})`);
  }
  assert.deepEqual(page.errors, []);
  await page.context().close();
});
