// audit.test.mjs — the auditor's audit log view (issue 11, for auditors),
// in Debian's chromium against a real node (skipped with the mock node,
// which has no audit log).
//
// The demo's auditor signs in, opens "Audit log", filters by an action and
// sees records of that action only (screenshot); a member has no such button.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
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

async function signedIn(user) {
  const context = await chrome.browser.newContext({ viewport: { width: 1366, height: 820 } });
  const page = await context.newPage();
  page.errors = [];
  page.on('pageerror', (e) => page.errors.push(String(e)));
  await page.goto(node.url + '/');
  await page.waitForSelector('#signin:not([hidden])');
  await page.fill('#signin-name', user.user);
  await page.fill('#signin-password', user.password);
  await page.click('#signin-form button[type=submit]');
  await page.waitForSelector('#app:not([hidden])');
  await page.waitForSelector('#live[data-state=live]');
  return page;
}

test('the auditor filters the audit log by action and sees only those records', { skip: !process.env.LIAISON_URL }, async () => {
  const auditor = byName('marco.bellini'); // the demo's auditor (data/demo.json)
  assert.ok(auditor && auditor.password, 'the demo has an auditor with a password');
  const page = await signedIn(auditor);
  await page.click('#audit-open');
  await page.waitForSelector('#audit-dialog tbody tr');
  const all = await page.$$eval('#audit-dialog tbody tr', (rows) => rows.map((r) => r.dataset.action));
  assert.ok(all.includes('post') && all.some((a) => a !== 'post'), `unfiltered: several actions (${[...new Set(all)]})`);
  await page.fill('#audit-action', 'post');
  await page.click('#audit-filter button[type=submit]');
  await page.waitForFunction(() => {
    const rows = [...document.querySelectorAll('#audit-dialog tbody tr')];
    return rows.length > 0 && rows.every((r) => r.dataset.action === 'post');
  });
  const shown = await page.$$eval('#audit-dialog tbody tr', (rows) => rows.map((r) => r.dataset.action));
  assert.ok(shown.length > 0 && shown.every((a) => a === 'post'), 'only post records');
  assert.ok(shown.length < all.length, 'fewer than unfiltered');
  assert.match(await page.textContent('#audit-status'), /\d+ records?\./);
  await page.screenshot({ path: path.join(outDir, 'audit.png') });
  // The auditor's view for the docs, in English and in French.
  await page.screenshot({ path: path.join(docsImgDir, 'web-audit.png') });
  await page.keyboard.press('Escape');
  await page.waitForSelector('#audit-dialog:not([open])', { state: 'attached' });
  await page.click('#lang-fr');
  await page.waitForFunction(() => document.documentElement.lang === 'fr');
  await page.click('#audit-open');
  await page.waitForSelector('#audit-dialog[open] tbody tr');
  await page.screenshot({ path: path.join(docsImgDir, 'web-audit-fr.png') });
  await page.keyboard.press('Escape');
  await page.waitForSelector('#audit-dialog:not([open])', { state: 'attached' });
  await page.click('#lang-en');
  await page.waitForFunction(() => document.documentElement.lang === 'en');
  await page.click('#audit-open');
  await page.waitForSelector('#audit-dialog[open] tbody tr');
  await page.fill('#audit-action', 'post');
  // A filter nothing matches says so.
  await page.fill('#audit-actor', 'no.such.person');
  await page.click('#audit-filter button[type=submit]');
  await page.waitForFunction(() => document.getElementById('audit-status').textContent === 'No record matches.');
  assert.equal(await page.locator('#audit-dialog tbody tr').count(), 0);
  assert.deepEqual(page.errors, []);
  await page.context().close();
});

test('a user without the auditor role has no audit log button', { skip: !process.env.LIAISON_URL }, async () => {
  const member = byName('james.whitfield'); // member and release authority, not auditor
  const page = await signedIn(member);
  assert.equal(await page.locator('#audit-open').count(), 0);
  await page.context().close();
});
