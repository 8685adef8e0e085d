// origin.test.mjs — an item from a peer shows where it came from (issue 10:
// "An item from a peer appears in its channel with its origin shown"): the
// node gives `origin {node, nation}` (docs/api/openapi.yaml); the page
// writes "from NATO HQ" ("de NATO HQ" in French) in the list and in the
// item's details, and nothing on a local item. The browser part runs
// against the mock node, which holds one item from the peer NATO HQ in
// #maritime-security (a single demo node has no peer items: skipped there).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startNode, userOf, launch, signedIn } from './harness.mjs';
import { normaliseItem } from '../public/js/normalise.js';

let node;
let chrome;

before(async () => {
  node = await startNode();
  if (!node.real) chrome = await launch();
});

after(async () => {
  await chrome?.close();
  node?.close();
});

test('the origin passes through normalisation, and a local item has none', () => {
  const base = { id: 'x', body: 'b', label: {} };
  assert.deepEqual(normaliseItem({ ...base, origin: { node: 'NATO HQ', nation: 'NATO' } }).origin,
    { node: 'NATO HQ', nation: 'NATO' });
  assert.deepEqual(normaliseItem({ ...base, origin: { node: 'TOKYO', nation: null } }).origin,
    { node: 'TOKYO', nation: null }, 'an origin no longer registered has no nation');
  assert.equal(normaliseItem(base).origin, null);
  assert.equal(normaliseItem({ ...base, origin: { nation: 'NATO' } }).origin, null, 'no node, no origin');
});

test('an item from a peer reads "from NATO HQ" in the list and its details, "de NATO HQ" in French', async (t) => {
  if (node.real) return t.skip('a single real node has no items from a peer');
  const page = await signedIn(chrome.browser, node.url, userOf(node.users, 'JPN'));
  await page.click('.channel[data-channel="maritime-security"]');
  const peerItem = page.locator('#items .item', { hasText: 'Relayed from Brussels' });
  await peerItem.waitFor();
  assert.equal(await peerItem.locator('.origin').textContent(), 'from NATO HQ');
  assert.equal(await peerItem.locator('.origin').getAttribute('title'), 'An item from a peer node of NATO');
  const local = page.locator('#items .item', { hasText: 'Maritime domain awareness' });
  assert.equal(await local.locator('.origin').count(), 0, 'a local item names no origin');

  await peerItem.locator('button.link').click();
  await page.waitForSelector('#detail[open] #detail-origin');
  assert.equal(await page.textContent('#detail-origin'), 'from NATO HQ (NATO)');
  await page.click('#detail .actions button');

  await page.click('#lang-fr');
  await page.waitForFunction(() => document.documentElement.lang === 'fr');
  assert.equal(await peerItem.locator('.origin').textContent(), 'de NATO HQ');
  await peerItem.locator('button.link').click();
  await page.waitForSelector('#detail[open] #detail-origin');
  assert.equal(await page.textContent('#detail-origin'), 'de NATO HQ (NATO)');
  await page.context().close();
});
