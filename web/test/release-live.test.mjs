// release-live.test.mjs — release requests live in the page (issue 13,
// docs/RELEASE.md, docs/WEB.md), in Debian's chromium against a real node
// (skipped with the mock):
// - an open request shows a countdown to its deadline that ticks (the text
//   changes; no timing is asserted), in English and French;
// - the proposer, with the "Release requests" view open in one page, sees
//   the authority's break of silence (made in another page) arrive live:
//   the card changes without a reload, and the change is said; with the
//   view closed, a concurrence and the adoption mark the button;
// - a downgrade (a lower classification) is asked from the item's detail,
//   with the marking after as the node marks it;
// - nobody else learns of a request: NATO staff who may read the item and
//   Korea's member get no release-request event on their stream (read raw,
//   in their page, until an item posted after every act arrives) and their
//   page shows no notice.
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

async function call(user, method, route, body) {
  const res = await fetch(`${api()}${route}`, {
    method,
    headers: { Authorization: `Bearer ${user.token}`, ...(body ? { 'Content-Type': 'application/json' } : {}) },
    body: body ? JSON.stringify(body) : undefined,
  });
  const text = await res.text();
  return { status: res.status, json: text ? JSON.parse(text) : null };
}

async function postItem(user, body, label = REL_JPN) {
  const r = await call(user, 'POST', `/api/v1/channels/${CHANNEL}/items`, { label, body });
  assert.equal(r.status, 201, `the item is posted (${JSON.stringify(r.json)})`);
  return r.json.id;
}

async function propose(user, item) {
  const r = await call(user, 'POST', `/api/v1/items/${item}/release-requests`,
    { label: REL_KOR_JPN, reason: 'Korea joins the exercise' });
  assert.equal(r.status, 201, JSON.stringify(r.json));
  return r.json.id;
}

async function openRequests(page, rid) {
  await page.click('#releases-open');
  await page.waitForSelector(`#releases-dialog li[data-rid="${rid}"]`);
  return `#releases-dialog li[data-rid="${rid}"]`;
}

test('an open request shows a countdown to its deadline that ticks, in English and French', { skip: !real }, async () => {
  const kenji = byName('kenji.watanabe');
  const yui = byName('yui.nakamura');
  const rid = await propose(kenji, await postItem(kenji, `countdown candidate ${Date.now()}`));
  const page = await signedIn(chrome.browser, node.url, yui);
  const row = await openRequests(page, rid);
  const sel = `${row} .rel-countdown`;
  const first = await page.textContent(sel);
  // The node's default deadline is 24 h away: under a day, to the second.
  assert.match(first, /^\d\d h \d\d min \d\d s left$/, first);
  await page.waitForFunction(([s, was]) => document.querySelector(s)?.textContent !== was, [sel, first]);
  assert.match(await page.textContent(sel), /^\d\d h \d\d min \d\d s left$/);
  await page.screenshot({ path: path.join(outDir, 'release-countdown.png') });
  await page.click('#releases-dialog form[method=dialog] button');
  await page.click('#lang-fr');
  await page.waitForFunction(() => document.documentElement.lang === 'fr');
  await openRequests(page, rid);
  const fr = await page.textContent(sel);
  assert.match(fr, /^reste \d\d h \d\d min \d\d s$/, fr);
  await page.waitForFunction(([s, was]) => document.querySelector(s)?.textContent !== was, [sel, fr]);
  assert.deepEqual(page.errors, []);
  await page.context().close();
});

test('the proposer sees a break of silence live, without a reload; with the view closed the button counts changes', { skip: !real }, async () => {
  const kenji = byName('kenji.watanabe');
  const yui = byName('yui.nakamura');
  const rid = await propose(kenji, await postItem(kenji, `live candidate ${Date.now()}`));
  const asker = await signedIn(chrome.browser, node.url, kenji);
  const mine = await openRequests(asker, rid);
  assert.equal(await asker.getAttribute(mine, 'data-state'), 'open');

  // The authority breaks silence in her own page.
  const authority = await signedIn(chrome.browser, node.url, yui);
  const row = await openRequests(authority, rid);
  await authority.fill(`${row} .rel-break-text`, 'Not before the agreement is signed');
  await authority.click(`${row} .rel-break`);
  await authority.waitForSelector(`${row}[data-state="silence-broken"]`);

  // The proposer's card changes by itself: the stream's notice.
  await asker.waitForSelector(`${mine}[data-state="silence-broken"]`);
  assert.equal(await asker.textContent(`${mine} .rel-state`), 'silence broken');
  assert.equal(await asker.textContent(`${mine} .rel-break-reason`), 'Not before the agreement is signed');
  assert.equal(await asker.locator(`${mine} .rel-countdown`).count(), 0, 'no countdown on a closed request');
  assert.equal(await asker.textContent('#releases-notice'),
    'A release request changed: broke silence (now silence broken).');
  await asker.screenshot({ path: path.join(outDir, 'release-live-break.png') });

  // The view closed: a concurrence adopts a second request; the button
  // counts the changes, and they are said.
  await asker.click('#releases-dialog form[method=dialog] button');
  const rid2 = await propose(kenji, await postItem(kenji, `live candidate two ${Date.now()}`));
  await asker.waitForSelector('#releases-unseen');
  const r = await call(yui, 'POST', `/api/v1/release-requests/${rid2}/concur`, {});
  assert.equal(r.status, 200);
  await asker.waitForFunction(() => document.getElementById('releases-notice').textContent ===
    'A release request changed: adopted (now adopted).');
  assert.ok(Number(await asker.textContent('#releases-unseen')) >= 3, 'opened, concurred, adopted');
  const second = await openRequests(asker, rid2);
  assert.equal(await asker.getAttribute(second, 'data-state'), 'adopted');
  assert.equal(await asker.locator('#releases-unseen').count(), 0, 'seen once the view is open');
  assert.deepEqual([...asker.errors, ...authority.errors], []);
  assert.deepEqual([...asker.foreign, ...authority.foreign], []);
  await asker.context().close();
  await authority.context().close();
});

test('a downgrade is requested from the item\'s detail', { skip: !real }, async () => {
  const kenji = byName('kenji.watanabe');
  const yui = byName('yui.nakamura');
  const text = `downgrade candidate ${Date.now()}`;
  await postItem(kenji, text);
  const page = await signedIn(chrome.browser, node.url, kenji);
  await page.click(`.channel[data-channel="${CHANNEL}"]`);
  await page.waitForSelector(`.channel.current[data-channel="${CHANNEL}"]`);
  await page.locator('.item', { hasText: text }).locator('button.link').click();
  await page.waitForSelector('#detail[open]');
  await page.click('#release-ask-open');
  const options = await page.$$eval('#release-class option', (os) => os.map((o) => o.value));
  assert.deepEqual(options, ['', 'UNCLASSIFIED'], 'only lower classifications are offered');
  await page.selectOption('#release-class', 'UNCLASSIFIED');
  await page.waitForFunction(() => /UNCLASSIFIED/.test(document.querySelector('#release-after .banner')?.textContent || ''));
  const afterMarking = await page.textContent('#release-after .banner');
  await page.fill('#release-reason', 'The exercise is over');
  await page.click('#release-ask-send');
  await page.waitForFunction(() => /ok|error/.test(document.getElementById('release-ask-status').className));
  const said = await page.textContent('#release-ask-status');
  assert.match(said, /^Downgrade requested: .*UNCLASSIFIED.*Authorities: yui\.nakamura\.$/, said);
  assert.ok(said.includes(afterMarking), `the marking the node proposed is the one previewed: ${afterMarking}`);
  assert.equal(await page.getAttribute('#release-ask-status', 'data-kind'), 'downgrade');
  const rid = await page.getAttribute('#release-ask-status', 'data-rid');
  const got = await call(yui, 'GET', `/api/v1/release-requests/${rid}`);
  assert.equal(got.json.kind, 'downgrade');
  assert.equal(got.json.label.classification, 'UNCLASSIFIED');
  assert.deepEqual(page.errors, []);
  await page.context().close();
});

/** In the page, read the user's own stream raw until `marker` (an item's
 *  text) arrives; return everything read. */
function readStreamUntil(page, token, marker) {
  return page.evaluate(async ([tok, want]) => {
    const res = await fetch('/api/v1/stream', { headers: { Authorization: `Bearer ${tok}` } });
    const reader = res.body.pipeThrough(new TextDecoderStream()).getReader();
    let text = '';
    window.streamReady = true;
    while (!text.includes(want)) {
      const { value, done } = await reader.read();
      if (done) break;
      text += value;
    }
    await reader.cancel();
    return text;
  }, [token, marker]);
}

test('nobody but the proposer, its authorities and auditors learns of a request: no event, no id', { skip: !real }, async () => {
  const kenji = byName('kenji.watanabe');
  const yui = byName('yui.nakamura');
  const ingrid = byName('ingrid.halvorsen'); // NATO staff: may read the item, no party
  const minjun = byName('min-jun.park');     // Korea: may not read it
  const marco = byName('marco.bellini');     // the auditor: is told
  const watchers = [];
  for (const u of [ingrid, minjun, marco]) {
    const page = await signedIn(chrome.browser, node.url, u);
    const marker = `leak marker ${u.user} ${Date.now()}`;
    watchers.push({ u, page, marker, read: readStreamUntil(page, u.token, marker) });
    await page.waitForFunction(() => window.streamReady === true);
  }
  // Every act of a request's life: proposed, extended, broken; another
  // proposed and withdrawn; a third concurred and adopted.
  const item = await postItem(kenji, `leak candidate ${Date.now()}`);
  const rid = await propose(kenji, item);
  const later = new Date(Date.now() + 3 * 86400e3).toISOString();
  assert.equal((await call(kenji, 'POST', `/api/v1/release-requests/${rid}/extend`, { deadline: later })).status, 200);
  assert.equal((await call(yui, 'POST', `/api/v1/release-requests/${rid}/break-silence`, { reason: 'no' })).status, 200);
  const rid2 = await propose(kenji, await postItem(kenji, `leak candidate two ${Date.now()}`));
  assert.equal((await call(kenji, 'POST', `/api/v1/release-requests/${rid2}/withdraw`)).status, 200);
  const rid3 = await propose(kenji, await postItem(kenji, `leak candidate three ${Date.now()}`));
  assert.equal((await call(yui, 'POST', `/api/v1/release-requests/${rid3}/concur`, {})).status, 200);
  // Then an item each watcher may read (NATO and Korea): the stream is
  // ordered, so what came before it is everything of the requests.
  for (const w of watchers) await postItem(yui, w.marker, REL_KOR_JPN);
  for (const w of watchers) w.text = await w.read;
  for (const w of watchers.slice(0, 2)) {
    assert.ok(w.text.includes(w.marker), `${w.u.user}'s stream got the marker`);
    assert.ok(!w.text.includes('release-request'), `${w.u.user} got no release-request event`);
    for (const id of [rid, rid2, rid3]) assert.ok(!w.text.includes(id), `${w.u.user} never saw request ${id}`);
    assert.equal(await w.page.textContent('#releases-notice'), '', `${w.u.user}'s page says nothing`);
    assert.equal(await w.page.locator('#releases-unseen').count(), 0);
  }
  // The auditor, by contrast, was told (the same stream, the same order).
  const audit = watchers[2].text;
  for (const id of [rid, rid2, rid3]) assert.ok(audit.includes(`"id":"${id}"`), `the auditor was told of ${id}`);
  for (const w of watchers) {
    assert.deepEqual(w.page.errors, []);
    await w.page.context().close();
  }
});
