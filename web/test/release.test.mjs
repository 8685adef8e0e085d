// release.test.mjs — release requests in the page (issue 13,
// docs/RELEASE.md), in Debian's chromium against a real node (skipped with
// the mock): Japan's desk officer asks to widen an item to Korea from its
// detail, Japan's release authority breaks silence with a reason in the
// "Release requests" view, and the proposer sees the request stopped and
// why; the node's refusal (a deadline out of its bounds) is shown in words.
// Then, in French, a second request concurred by every authority (one
// organisation, one authority) is adopted at once, and the item's detail
// shows version 2. Last, the proposer extends a request once (the button
// goes) and withdraws it.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import { startNode, launch, signedIn, outDir } from './harness.mjs';

let node;
let chrome;
const byName = (name) => node.users.find((u) => u.user === name);
const api = () => node.api || node.url;
const CHANNEL = 'space';
const REL_JPN = {
  policy: 'NATO', classification: 'RESTRICTED', categories: [
    { tagSet: 'Context', values: ['NATO', 'Releasable'] },
    { tagSet: 'Releasable To', values: ['NATO', 'JPN'] }],
};

before(async () => {
  node = await startNode();
  if (node.real) chrome = await launch();
});

after(async () => {
  await chrome?.close();
  node?.close();
});

async function postItem(user, body) {
  const res = await fetch(`${api()}/api/v1/channels/${CHANNEL}/items`, {
    method: 'POST',
    headers: { Authorization: `Bearer ${user.token}`, 'Content-Type': 'application/json' },
    body: JSON.stringify({ label: REL_JPN, body }),
  });
  assert.equal(res.status, 201, `the item is posted (${await res.clone().text()})`);
  return (await res.json()).id;
}

async function openItem(page, text) {
  await page.click(`.channel[data-channel="${CHANNEL}"]`);
  await page.waitForSelector(`.channel.current[data-channel="${CHANNEL}"]`);
  await page.locator('.item', { hasText: text }).locator('button.link').click();
  await page.waitForSelector('#detail[open]');
}

/** Ask, from the open detail, to add Korea; returns the status's text. */
async function askForKorea(page, reason, deadline = '', after = 'NATO RESTRICTED Releasable to JPN, KOR') {
  if (await page.locator('#release-ask-open').count()) await page.click('#release-ask-open');
  await page.check('#release-ask-form input[name=release-add][value=KOR]');
  // The marking after, as the node marks it, beside the marking now.
  await page.waitForSelector('#release-after .banner');
  await page.waitForFunction((m) => document.querySelector('#release-after .banner')?.textContent === m, after);
  await page.fill('#release-reason', reason);
  await page.fill('#release-deadline', deadline);
  await page.click('#release-ask-send');
  await page.waitForFunction(() => /ok|error/.test(document.getElementById('release-ask-status').className));
  return page.textContent('#release-ask-status');
}

async function openRequests(page, rid) {
  await page.click('#releases-open');
  await page.waitForSelector(`#releases-dialog li[data-rid="${rid}"]`);
  return `#releases-dialog li[data-rid="${rid}"]`;
}

test('a proposer asks, an authority breaks silence with a reason, the proposer sees it', { skip: !process.env.LIAISON_URL }, async () => {
  const kenji = byName('kenji.watanabe');     // member, Mission of Japan
  const yui = byName('yui.nakamura');         // its release authority
  const text = `release candidate ${Date.now()}`;
  await postItem(kenji, text);

  const asker = await signedIn(chrome.browser, node.url, kenji);
  await openItem(asker, text);
  // Too far a deadline: the node's 422, in words.
  const far = new Date(Date.now() + 400 * 86400e3).toISOString().slice(0, 16);
  const refused = await askForKorea(asker, 'Korea joins the exercise', far);
  assert.match(refused, /^The node refused the request: .*deadline/i, refused);
  const sent = await askForKorea(asker, 'Korea joins the exercise');
  assert.match(sent, /^Request sent: .*KOR.*deadline \d{4}-\d\d-\d\d \d\d:\d\d UTC\. Authorities: yui\.nakamura\.$/, sent);
  const rid = await asker.getAttribute('#release-ask-status', 'data-rid');
  assert.ok(rid, 'the request\'s id');

  const authority = await signedIn(chrome.browser, node.url, yui);
  const row = await openRequests(authority, rid);
  assert.equal(await authority.textContent(`${row} .rel-state`), 'open');
  assert.equal(await authority.textContent(`${row} .rel-reason`), 'Korea joins the exercise');
  assert.match(await authority.textContent(`${row} .rel-deadline`), /UTC/);
  // Breaking silence without a reason is not sent.
  await authority.click(`${row} .rel-break`);
  assert.equal(await authority.textContent(`${row} .rel-status`), 'A reason is required.');
  await authority.fill(`${row} .rel-break-text`, 'Not before the bilateral agreement is signed');
  await authority.click(`${row} .rel-break`);
  await authority.waitForSelector(`#releases-dialog li[data-rid="${rid}"][data-state="silence-broken"]`);
  assert.equal(await authority.locator(`${row} .rel-concur`).count(), 0, 'no more answers on a closed request');
  await authority.screenshot({ path: path.join(outDir, 'release-broken.png') });

  await asker.keyboard.press('Escape');
  await asker.waitForSelector('#detail:not([open])', { state: 'attached' });
  const mine = await openRequests(asker, rid);
  assert.equal(await asker.textContent(`${mine} .rel-state`), 'silence broken');
  assert.equal(await asker.textContent(`${mine} li[data-user="yui.nakamura"] .rel-answer`), 'broke silence');
  assert.equal(await asker.textContent(`${mine} .rel-break-reason`), 'Not before the bilateral agreement is signed');
  assert.equal(await asker.locator(`${mine} .rel-withdraw`).count(), 0);
  assert.deepEqual([...asker.errors, ...authority.errors], []);
  assert.deepEqual([...asker.foreign, ...authority.foreign], []);
  await asker.context().close();
  await authority.context().close();
});

test('in French, a request every authority concurs with is adopted and the item shows version 2', { skip: !process.env.LIAISON_URL }, async () => {
  const kenji = byName('kenji.watanabe');
  const yui = byName('yui.nakamura');
  const text = `second candidate ${Date.now()}`;
  const id = await postItem(kenji, text);

  const asker = await signedIn(chrome.browser, node.url, kenji);
  await asker.click('#lang-fr');
  await asker.waitForFunction(() => document.documentElement.lang === 'fr');
  await openItem(asker, text);
  assert.equal(await asker.textContent('#release-ask-open'), 'Demander une diffusion plus large');
  assert.equal(await asker.textContent('#detail-version'), '1');
  const sent = await askForKorea(asker, 'La Corée rejoint l’exercice', '',
    'NATO DIFFUSION RESTREINTE Communicable à Japon, République de Corée');
  assert.match(sent, /^Demande envoyée : .*échéance .* UTC\. Autorités : yui\.nakamura\.$/, sent);
  const rid = await asker.getAttribute('#release-ask-status', 'data-rid');
  await asker.keyboard.press('Escape');
  await asker.waitForSelector('#detail:not([open])', { state: 'attached' });

  const authority = await signedIn(chrome.browser, node.url, yui);
  await authority.click('#lang-fr');
  await authority.waitForFunction(() => document.documentElement.lang === 'fr');
  const row = await openRequests(authority, rid);
  assert.equal(await authority.textContent('#releases-title'), 'Demandes de diffusion');
  assert.equal(await authority.textContent(`${row} .rel-state`), 'ouverte');
  assert.equal(await authority.textContent(`${row} .rel-concur`), 'Approuver');
  await authority.click(`${row} .rel-concur`);
  await authority.waitForSelector(`#releases-dialog li[data-rid="${rid}"][data-state="adopted"]`);
  assert.equal(await authority.textContent(`${row} .rel-state`), 'adoptée');
  assert.equal(await authority.textContent(`${row} li[data-user="yui.nakamura"] .rel-answer`), 'approuve');
  await authority.screenshot({ path: path.join(outDir, 'release-adopted-fr.png') });

  // Live: the stream brings version 2, which takes the card's place.
  await asker.waitForFunction(() => document.getElementById('list-status').textContent ===
    'Un élément a été rediffusé : version 2.');
  assert.equal(await asker.locator(`.item[data-id="${id}"]`).count(), 1, 'one card for the item');
  const mine = await openRequests(asker, rid);
  assert.equal(await asker.textContent(`${mine} .rel-state`), 'adoptée');
  await asker.click('#releases-dialog form[method=dialog] button');
  // The channel listed again: the item is its version 2, released to Korea.
  await asker.click('.channel[data-channel="cyber-defence"]');
  await openItem(asker, text);
  assert.equal(await asker.textContent('#detail-version'), '2');
  assert.equal(await asker.getAttribute(`.item[data-id="${id}"]`, 'data-id'), String(id), 'the same id');
  assert.match(await asker.textContent('#detail'), /KOR/);
  assert.deepEqual([...asker.errors, ...authority.errors], []);
  await asker.context().close();
  await authority.context().close();
});

test('the proposer extends a request once, then withdraws it', { skip: !process.env.LIAISON_URL }, async () => {
  const kenji = byName('kenji.watanabe');
  const text = `third candidate ${Date.now()}`;
  await postItem(kenji, text);
  const asker = await signedIn(chrome.browser, node.url, kenji);
  await openItem(asker, text);
  await askForKorea(asker, 'Korea may need it');
  const rid = await asker.getAttribute('#release-ask-status', 'data-rid');
  await asker.keyboard.press('Escape');
  const row = await openRequests(asker, rid);
  assert.equal(await asker.locator(`${row} .rel-concur`).count(), 0, 'the proposer is not an authority');
  const before = await asker.textContent(`${row} .rel-deadline`);
  const later = new Date(Date.now() + 3 * 86400e3).toISOString().slice(0, 16);
  await asker.fill(`${row} .rel-extend-when`, later);
  await asker.click(`${row} .rel-extend`);
  await asker.waitForFunction((sel) => /extended/.test(document.querySelector(sel)?.textContent || ''), `${row} .rel-deadline`);
  assert.equal(await asker.textContent(`${row} .rel-deadline`), `${later.replace('T', ' ')} UTC (extended)`);
  assert.notEqual(before, await asker.textContent(`${row} .rel-deadline`));
  assert.equal(await asker.locator(`${row} .rel-extend`).count(), 0, 'extended once only');
  await asker.click(`${row} .rel-withdraw`);
  await asker.waitForSelector(`#releases-dialog li[data-rid="${rid}"][data-state="withdrawn"]`);
  assert.equal(await asker.textContent(`${row} .rel-state`), 'withdrawn');
  assert.deepEqual(asker.errors, []);
  await asker.context().close();
});
