// correct.test.mjs — correcting an item from its detail (docs/RELEASE.md
// "Correcting an item", docs/WEB.md), in Debian's chromium against a real
// node (skipped with the mock):
// - the author withdraws an item after a confirmation that shows its
//   marking now and "withdrawn" after: its card goes at once; a reader who
//   had it finds it gone on reload, and the node answers 404;
// - a release authority of the item's organisation may withdraw it too;
//   NATO staff (another organisation) are offered no correction;
// - the author narrows an item (Korea unticked), confirming the marking
//   after as the node marks it: version 2; Korea's reader finds it gone on
//   reload, and the node answers 404 to Korea;
// - in French, the same words are French.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import { startNode, launch, signedIn, outDir } from './harness.mjs';

let node;
let chrome;
const real = !!process.env.LIAISON_URL;
const byName = (name) => node.users.find((u) => u.user === name);
const api = () => node.api || node.url;
const CHANNEL = 'space';
const REL_JPN = {
  policy: 'NATO', classification: 'RESTRICTED', categories: [
    { tagSet: 'Context', values: ['NATO', 'Releasable'] },
    { tagSet: 'Releasable To', values: ['NATO', 'JPN'] }],
};
const REL_KOR_JPN = {
  policy: 'NATO', classification: 'RESTRICTED', categories: [
    { tagSet: 'Context', values: ['NATO', 'Releasable'] },
    { tagSet: 'Releasable To', values: ['NATO', 'KOR', 'JPN'] }],
};

before(async () => {
  node = await startNode();
  if (node.real) chrome = await launch();
});

after(async () => {
  await chrome?.close();
  node?.close();
});

async function postItem(user, body, label = REL_JPN) {
  const res = await fetch(`${api()}/api/v1/channels/${CHANNEL}/items`, {
    method: 'POST',
    headers: { Authorization: `Bearer ${user.token}`, 'Content-Type': 'application/json' },
    body: JSON.stringify({ label, body }),
  });
  assert.equal(res.status, 201, `the item is posted (${await res.clone().text()})`);
  return (await res.json()).id;
}

async function status(user, id) {
  const res = await fetch(`${api()}/api/v1/items/${id}`, { headers: { Authorization: `Bearer ${user.token}` } });
  await res.arrayBuffer();
  return res.status;
}

async function showChannel(page) {
  await page.click(`.channel[data-channel="${CHANNEL}"]`);
  await page.waitForSelector(`#items[data-channel="${CHANNEL}"]`);
}

async function openItem(page, id) {
  await showChannel(page);
  await page.locator(`.item[data-id="${id}"] button.link`).click();
  await page.waitForSelector('#detail[open]');
}

test('the author withdraws an item after a confirmation; a reader finds it gone on reload', { skip: !real }, async () => {
  const kenji = byName('kenji.watanabe');
  const ingrid = byName('ingrid.halvorsen'); // NATO staff: reads it, may not correct it
  const id = await postItem(kenji, `withdraw candidate ${Date.now()}`);
  const reader = await signedIn(chrome.browser, node.url, ingrid);
  await showChannel(reader);
  await reader.waitForSelector(`.item[data-id="${id}"]`);
  await reader.locator(`.item[data-id="${id}"] button.link`).click();
  await reader.waitForSelector('#detail[open]');
  assert.equal(await reader.locator('#correct').count(), 0, 'another organisation\'s staff may not correct it');
  await reader.keyboard.press('Escape');

  const page = await signedIn(chrome.browser, node.url, kenji);
  await openItem(page, id);
  assert.equal(await page.textContent('#withdraw-open'), 'Withdraw this item…');
  await page.click('#withdraw-open');
  // The confirmation: the marking now, and what it comes to.
  assert.equal(await page.textContent('#correct .facts .banner'), 'NATO RESTRICTED Releasable to JPN');
  assert.equal(await page.textContent('#withdraw-after'), 'withdrawn: no reader sees it');
  await page.click('#withdraw-cancel');
  assert.equal(await status(kenji, id), 200, 'cancelled: nothing sent');
  await page.click('#withdraw-open');
  await page.click('#withdraw-confirm');
  await page.waitForFunction(() => document.getElementById('withdraw-status')?.className === 'ok');
  assert.equal(await page.textContent('#withdraw-status'), 'Withdrawn: no reader sees this item any more.');
  assert.equal(await page.locator(`.item[data-id="${id}"]`).count(), 0, 'its card is gone at once');
  await page.screenshot({ path: path.join(outDir, 'withdrawn.png') });

  assert.equal(await status(ingrid, id), 404);
  await reader.reload();
  await reader.waitForSelector('#live[data-state=live]');
  await showChannel(reader);
  assert.equal(await reader.locator(`.item[data-id="${id}"]`).count(), 0, 'gone for the reader on reload');
  assert.deepEqual([...page.errors, ...reader.errors], []);
  await page.context().close();
  await reader.context().close();
});

test('a release authority of the item\'s organisation withdraws a member\'s item, in French', { skip: !real }, async () => {
  const kenji = byName('kenji.watanabe');
  const yui = byName('yui.nakamura');
  const id = await postItem(kenji, `withdraw by authority ${Date.now()}`);
  const page = await signedIn(chrome.browser, node.url, yui);
  await page.click('#lang-fr');
  await page.waitForFunction(() => document.documentElement.lang === 'fr');
  await openItem(page, id);
  assert.equal(await page.locator('#narrow-open').count(), 0, 'narrowing is the author\'s');
  assert.equal(await page.textContent('#withdraw-open'), 'Retirer cet élément…');
  await page.click('#withdraw-open');
  assert.equal(await page.textContent('#withdraw-after'), 'retiré : aucun lecteur ne le voit');
  await page.click('#withdraw-confirm');
  await page.waitForFunction(() => document.getElementById('withdraw-status')?.className === 'ok');
  assert.equal(await page.textContent('#withdraw-status'), 'Retiré : plus aucun lecteur ne voit cet élément.');
  assert.equal(await status(kenji, id), 404);
  assert.deepEqual(page.errors, []);
  await page.context().close();
});

test('the author narrows an item, confirming the marking after; Korea\'s reader finds it gone on reload', { skip: !real }, async () => {
  const yui = byName('yui.nakamura');   // release authority: may release to Korea
  const minjun = byName('min-jun.park');
  const kenji = byName('kenji.watanabe');
  const id = await postItem(yui, `narrow candidate ${Date.now()}`, REL_KOR_JPN);
  const reader = await signedIn(chrome.browser, node.url, minjun);
  await showChannel(reader);
  await reader.waitForSelector(`.item[data-id="${id}"]`);

  const other = await signedIn(chrome.browser, node.url, kenji);
  await openItem(other, id);
  assert.equal(await other.locator('#correct').count(), 0, 'a member who is not its author has no correction');
  await other.context().close();

  const page = await signedIn(chrome.browser, node.url, yui);
  await openItem(page, id);
  await page.click('#narrow-open');
  assert.equal(await page.textContent('#narrow-after'), 'Untick a value or raise the classification.');
  // Sent with nothing changed: refused by the page.
  await page.click('#narrow-send');
  assert.equal(await page.textContent('#narrow-status'), 'Untick a value or raise the classification.');
  await page.uncheck('#narrow-form input[name=narrow-keep][value=KOR]');
  await page.waitForFunction(() => document.querySelector('#narrow-after .banner')?.textContent ===
    'NATO RESTRICTED Releasable to JPN');
  await page.click('#narrow-send');
  assert.equal(await page.textContent('#narrow-confirm-text'),
    'Narrow this item to NATO RESTRICTED Releasable to JPN? Readers it no longer admits stop seeing it at once.');
  assert.equal(await status(minjun, id), 200, 'nothing sent before the confirmation');
  await page.screenshot({ path: path.join(outDir, 'narrow-confirm.png') });
  await page.click('#narrow-confirm');
  await page.waitForFunction(() => document.getElementById('narrow-status')?.className === 'ok');
  assert.equal(await page.textContent('#narrow-status'), 'Narrowed: this item is now version 2.');
  await page.waitForFunction((i) => /Releasable to JPN$/.test(document.querySelector(`.item[data-id="${i}"] .banner`)?.textContent || ''), id);

  assert.equal(await status(minjun, id), 404, 'Korea may no longer read it');
  await reader.reload();
  await reader.waitForSelector('#live[data-state=live]');
  await showChannel(reader);
  assert.equal(await reader.locator(`.item[data-id="${id}"]`).count(), 0, 'gone for Korea on reload');
  assert.deepEqual([...page.errors, ...reader.errors], []);
  await page.context().close();
  await reader.context().close();
});
