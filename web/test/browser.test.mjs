// browser.test.mjs — the web page in Debian's chromium against a node.
//
// The proofs of issue 4: a Japanese reader never sees a NATO-only item that
// NATO staff just posted while NATO staff see it arrive live; composing
// "NATO RESTRICTED, Releasable to Japan" gives the engine's marking and
// Japan's reader sees it; the picker never offers a nation excluded at the
// chosen classification, nor a classification above one's clearance; the
// French toggle changes the markings; a screenshot of the main view is
// written to web/test-output/. See harness.mjs for LIAISON_URL and
// LIAISON_CREDENTIALS (a real node) — without them, the mock node.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { startNode, userOf, launch, signedIn, outDir, docsImgDir } from './harness.mjs';
import { normalisePolicy } from '../public/js/normalise.js';
import { bannerColours } from '../public/js/marking.js';

let node;
let chrome;
let nato;
let jpn;
let jpnRelease;
let channel;
let policy;

async function apiGet(user, p) {
  const res = await fetch(node.url + p, { headers: { Authorization: `Bearer ${user.token}` } });
  assert.equal(res.status, 200, `GET ${p} as ${user.user}`);
  return res.json();
}

before(async () => {
  node = await startNode();
  chrome = await launch();
  nato = userOf(node.users, 'NATO');
  jpn = userOf(node.users, 'JPN');
  // Japan's release authority (the demo credentials list roles): releasing
  // to another nation (KOR) needs the role; a member is refused (403).
  jpnRelease = node.users.find((u) => u.organisation === jpn.organisation &&
    (u.roles || []).includes('release_authority')) || jpn;
  const { channels } = await apiGet(nato, '/api/v1/channels');
  channel = (channels.find((c) => c.name === 'cyber-defence') || channels[0]).name;
  policy = normalisePolicy(await apiGet(nato, '/api/v1/policy'));
});

after(async () => {
  await chrome?.close();
  node?.close();
});

const unique = (what) => `${what} ${Date.now()}-${Math.random().toString(36).slice(2, 8)}`;

async function openChannel(page, name) {
  await page.click(`.channel[data-channel="${name}"]`);
  await page.waitForSelector(`.channel.current[data-channel="${name}"]`);
  await page.waitForFunction(() => !/Loading/.test(document.getElementById('list-status').textContent));
  const status = await page.textContent('#list-status');
  assert.match(status, /you may see/, `the channel's items are listed (${status})`);
}

async function chooseClassification(page, name) {
  await page.click(`#compose-form input[name=classification][value="${name}"] + label`);
  await page.waitForFunction((n) => document.querySelector(`#compose-form input[name=classification][value="${n}"]`).checked, name);
}

/** Tick a category in the picker (opening its tag set's panel). */
async function tick(page, tagSet, value) {
  const panel = page.locator(`#tagsets details[data-tagset="${tagSet}"]`).first();
  if (!(await panel.evaluate((d) => d.open))) await panel.locator('summary').click();
  const box = panel.locator(`.cat-opt[data-name="${value}"] input`);
  if (!(await box.isChecked())) await box.check();
}

async function offered(page, tagSet) {
  return page.$$eval(`#tagsets details[data-tagset="${tagSet}"] .cat-opt input`, (els) => els.map((e) => e.value));
}

async function post(page, body) {
  await page.fill('#compose-body', body);
  await page.click('#compose-post');
  await page.waitForFunction(() => document.getElementById('compose-status').dataset.itemId !== undefined ||
    document.getElementById('compose-error').textContent.trim() !== '');
  const err = await page.textContent('#compose-error');
  assert.equal(err.trim(), '', `posting failed: ${err}`);
  const id = await page.getAttribute('#compose-status', 'data-item-id');
  assert.ok(id, 'the page reports the new item id');
  return id;  // opaque
}

const itemCard = (page, text) => page.locator('.item', { hasText: text });

/** NATO RESTRICTED, Releasable to JPN (the label form of the API). */
const relToJapan = (cls = 'RESTRICTED') => ({
  policy: policy.id, classification: cls,
  categories: [{ tagSet: 'Context', type: 'permissive', values: ['NATO', 'Releasable'] },
    { tagSet: 'Releasable To', type: 'enumeratedPermissive', values: ['NATO', 'JPN'] }],
});
const natoOnly = (cls = 'RESTRICTED') => ({
  policy: policy.id, classification: cls, categories: [{ tagSet: 'Context', type: 'permissive', values: ['NATO'] }],
});

/** Post through the API (not the page); the new item's id. */
async function postApi(user, label, body, attachment) {
  const res = await fetch(`${node.url}/api/v1/channels/${encodeURIComponent(channel)}/items`, {
    method: 'POST', headers: { Authorization: `Bearer ${user.token}`, 'Content-Type': 'application/json' },
    body: JSON.stringify(attachment ? { label, body, attachment } : { label, body }),
  });
  assert.equal(res.status, 201, await res.clone().text());
  return (await res.json()).id;
}

test('a screenshot of the main view is written (laptop and narrow window); banners take the policy\'s colours', async () => {
  fs.mkdirSync(outDir, { recursive: true });
  // The node's demo data, and one item with a document, as a desk officer's day has.
  const annex = Buffer.concat([Buffer.from('%PDF-1.7\n'), Buffer.alloc(47 * 1024, 0x20), Buffer.from('\n%%EOF\n')]);
  await postApi(nato, {
    policy: policy.id, classification: 'UNCLASSIFIED',
    categories: [{ tagSet: 'Context', type: 'permissive', values: ['NATO', 'Releasable'] },
      { tagSet: 'Releasable To', type: 'enumeratedPermissive', values: ['NATO', 'AUS', 'JPN', 'KOR', 'NZL'] }],
  }, 'Cyber Coalition 2026: joining instructions for partner observers (annex attached).',
  { mediaType: 'application/pdf', data: annex.toString('base64') });
  for (const [name, viewport] of [['main.png', { width: 1366, height: 820 }], ['main-narrow.png', { width: 420, height: 900 }]]) {
    const page = await signedIn(chrome.browser, node.url, nato, viewport);
    await openChannel(page, channel);
    await page.waitForSelector('.item .attach-chip');
    if (name === 'main.png') {
      const want = Object.fromEntries(policy.classifications.map((c) => [c.name, bannerColours(policy, c.name)]));
      const wrong = await page.evaluate((want) => {
        const css = (c) => { const el = document.createElement('i'); el.style.color = c; document.body.append(el); const v = getComputedStyle(el).color; el.remove(); return v; };
        return [...document.querySelectorAll('.item .banner')].filter((b) => {
          const w = want[b.dataset.classification];
          const cs = getComputedStyle(b);
          return !w || cs.backgroundColor !== css(w.background) || cs.color !== css(w.foreground);
        }).map((b) => b.textContent);
      }, want);
      assert.deepEqual(wrong, [], 'every banner in its classification\'s colours');
      assert.ok(Object.values(want).some((c) => c.background !== want.UNCLASSIFIED?.background), 'the policy gives distinct colours');
    }
    const file = path.join(outDir, name);
    await page.screenshot({ path: file });
    assert.ok(fs.statSync(file).size > 10000, `${file} written`);
    if (name === 'main.png') {
      await page.locator('.item button.link').first().click();
      await page.waitForSelector('#detail[open]');
      await page.screenshot({ path: path.join(outDir, 'detail.png') });
    }
    await page.context().close();
  }
});

test('the page works from the keyboard: sign in, pick a classification and a nation, post', async () => {
  const context = await chrome.browser.newContext({ viewport: { width: 1366, height: 820 } });
  const page = await context.newPage();
  await page.goto(node.url + '/');
  await page.waitForSelector('#signin-password'); // the page's script is wired (else Enter reloads)
  await page.focus('#token');
  await page.keyboard.type(jpnRelease.token);
  await page.keyboard.press('Enter');
  await page.waitForSelector('#app:not([hidden])');
  await page.waitForSelector('#live[data-state=live]');
  await openChannel(page, channel);
  // After a reload (same tab: still signed in, same channel) the first Tab
  // reaches the skip link; Enter puts focus on the items.
  await page.reload();
  await page.waitForSelector(`.channel.current[data-channel="${channel}"]`);
  await page.waitForFunction(() => /you may see/.test(document.getElementById('list-status').textContent));
  await page.keyboard.press('Tab');
  assert.equal(await page.evaluate(() => document.activeElement?.textContent), 'Skip to items');
  assert.notEqual(await page.evaluate(() => getComputedStyle(document.activeElement).left), '-999px', 'shown when focused');
  await page.keyboard.press('Enter');
  assert.equal(await page.evaluate(() => document.activeElement?.id), 'items');
  assert.match(page.url(), /#channel=/, 'the channel stays in the URL');
  // Radio group: arrow keys move the classification.
  await page.focus('#compose-form input[name=classification][value="UNCLASSIFIED"]');
  await page.keyboard.press('ArrowRight');
  await page.waitForFunction(() => document.querySelector('#compose-form input[name=classification][value="RESTRICTED"]').checked);
  // A tag set opens with Enter on its summary; Space ticks a nation.
  await page.focus('#tagsets details[data-tagset="Releasable To"] summary');
  await page.keyboard.press('Enter');
  await page.focus('#tagsets details[data-tagset="Releasable To"] .cat-opt[data-name="KOR"] input');
  await page.keyboard.press('Space');
  await page.waitForFunction(() => document.querySelector('#tagsets details[data-tagset="Releasable To"] .cat-opt[data-name="KOR"] input').checked);
  const focused = await page.evaluate(() => document.activeElement?.value);
  assert.equal(focused, 'KOR', 'focus stays on the nation just ticked');
  // Context "Releasable" is added by the picker when the policy JSON states
  // the requirement (`requires`); otherwise the user ticks it.
  const rel = '#tagsets details[data-tagset="Context"] .cat-opt[data-name="Releasable"] input';
  if (!(await page.isChecked(rel))) {
    await page.focus('#tagsets details[data-tagset="Context"] summary');
    await page.keyboard.press('Enter');
    await page.focus(rel);
    await page.keyboard.press('Space');
  }
  await page.focus('#compose-body');
  const text = unique('Keyboard-only post to Korea');
  await page.keyboard.type(text);
  await page.keyboard.press('Tab');
  assert.equal(await page.evaluate(() => document.activeElement?.id), 'compose-file', 'Tab from the message reaches the document');
  await page.keyboard.press('Tab');
  assert.equal(await page.evaluate(() => document.activeElement?.id), 'compose-post', 'then Post');
  await page.keyboard.press('Enter');
  await page.waitForFunction(() => document.getElementById('compose-status').dataset.itemId !== undefined ||
    document.getElementById('compose-error').textContent.trim() !== '');
  assert.equal((await page.textContent('#compose-error')).trim(), '', 'posted without error');
  await itemCard(page, text).waitFor({ timeout: 10000 });
  const banner = await itemCard(page, text).locator('.banner').textContent();
  assert.match(banner, /RESTRICTED Releasable to JPN, KOR$/, 'Japan kept so the author can read it');
  await context.close();
});

test('a Japanese reader does not see a NATO-only item that NATO staff just posted; NATO staff see it arrive live', async () => {
  const poster = await signedIn(chrome.browser, node.url, nato);
  const natoReader = await signedIn(chrome.browser, node.url, nato);
  const jpnReader = await signedIn(chrome.browser, node.url, jpn);
  for (const p of [poster, natoReader, jpnReader]) await openChannel(p, channel);

  const text = unique('NATO-only situation report');
  await chooseClassification(poster, 'RESTRICTED');
  const id = await post(poster, text);

  // Live: no reload on the reader's side.
  await itemCard(natoReader, text).waitFor({ timeout: 10000 });
  const banner = await itemCard(natoReader, text).locator('.banner').textContent();
  assert.equal(banner, 'NATO RESTRICTED');
  assert.equal(await natoReader.getAttribute('.items .item:first-child', 'data-id'), String(id), 'newest first');

  // A barrier, not a sleep: an item released to Japan, posted after it,
  // arrives on Japan's stream after anything posted before it.
  const marker = unique('Released to Japan after the NATO-only report');
  await postApi(nato, relToJapan(), marker);
  await itemCard(jpnReader, marker).waitFor({ timeout: 15000 });
  assert.equal(await itemCard(jpnReader, text).count(), 0, 'not delivered live to Japan');
  await openChannel(jpnReader, channel);
  assert.equal(await itemCard(jpnReader, text).count(), 0, 'not listed to Japan');
  await jpnReader.fill('#search-q', text.split(' ').pop());
  await jpnReader.press('#search-q', 'Enter');
  await jpnReader.waitForFunction(() => !/Searching/.test(document.getElementById('list-status').textContent));
  assert.match(await jpnReader.textContent('#list-status'), /you may see/, 'the search ran');
  assert.equal(await itemCard(jpnReader, text).count(), 0, 'not found by search for Japan');
  const res = await fetch(`${node.url}/api/v1/items/${id}`, { headers: { Authorization: `Bearer ${jpn.token}` } });
  assert.equal(res.status, 404, 'fetch by id answers as for no item');

  for (const p of [poster, natoReader, jpnReader]) {
    assert.deepEqual(p.errors, []);
    assert.deepEqual(p.foreign, [], 'the page fetched nothing but the node');
    await p.context().close();
  }
});

test('composing NATO RESTRICTED, Releasable to Japan gives the engine\'s marking, and Japan\'s reader sees it', async () => {
  const poster = await signedIn(chrome.browser, node.url, nato);
  const jpnReader = await signedIn(chrome.browser, node.url, jpn);
  await openChannel(poster, channel);
  await openChannel(jpnReader, channel);

  await chooseClassification(poster, 'RESTRICTED');
  await tick(poster, 'Releasable To', 'JPN');
  // The policy's `requires` ("all" rules): JPN needs Context "Releasable",
  // which needs Releasable To NATO; the picker adds both, shown as implied.
  for (const [ts, name] of [['Context', 'Releasable'], ['Releasable To', 'NATO']]) {
    const opt = poster.locator(`#tagsets details[data-tagset="${ts}"] .cat-opt[data-name="${name}"]`).first();
    assert.ok(await opt.locator('input').isChecked(), `${ts} ${name} is added by the picker`);
    assert.match(await opt.textContent(), /\(added\)/, `${ts} ${name} is shown as implied`);
  }
  const want = 'NATO RESTRICTED Releasable to JPN';
  const preview = await poster.locator('#preview-banner').textContent();
  if (!node.real) assert.equal(preview, want, 'live preview');
  else console.log(`# preview before posting: ${preview}`);

  const text = unique('Releasable to Japan: AP4 meeting notes');
  const id = await post(poster, text);
  const card = itemCard(poster, text);
  await card.waitFor({ timeout: 10000 });
  assert.equal(await card.locator('.banner').textContent(), want);

  await itemCard(jpnReader, text).waitFor({ timeout: 10000 });
  assert.equal(await itemCard(jpnReader, text).locator('.banner').textContent(), want);
  const item = await apiGet(jpn, `/api/v1/items/${id}`);
  assert.equal(item.marking, want, 'the banner is the node\'s (engine\'s) marking');
  const relTo = item.label.categories.find((g) => g.tagSet === 'Releasable To');
  assert.ok(relTo && relTo.values.includes('NATO') && relTo.values.includes('JPN'),
    'the label carries Releasable To NATO beside JPN');
  // NATO staff (who hold Releasable To NATO, not Japan) see it too.
  for (const u of node.users.filter((x) => /^NATO\b/.test(x.organisation))) {
    const seen = await apiGet(u, `/api/v1/items/${id}`);
    assert.equal(seen.marking, want, `${u.user} (NATO staff) sees it`);
  }

  // The detail: full label, both markings, author, hash.
  await itemCard(jpnReader, text).locator('button.link').click();
  const detail = await jpnReader.textContent('#detail');
  assert.match(detail, /Releasable To/);
  assert.ok(detail.includes(nato.user), 'author shown');
  assert.ok(detail.includes(want));
  await jpnReader.keyboard.press('Escape');
  await poster.context().close();
  await jpnReader.context().close();
});

test('the picker offers no nation excluded at the chosen classification, and nothing above one\'s clearance', async () => {
  const page = await signedIn(chrome.browser, node.url, nato);
  await openChannel(page, channel);
  const rel = policy.categories.filter((c) => c.tagSet === 'Releasable To' && !c.obsolete);
  for (const cls of policy.classifications) {
    await chooseClassification(page, cls.name);
    const got = (await offered(page, 'Releasable To')).sort();
    const want = rel.filter((c) => !(c.excludedBy || []).includes(cls.name)).map((c) => c.name).sort();
    assert.deepEqual(got, want, `Releasable To offered at ${cls.name}`);
  }
  await chooseClassification(page, 'SECRET');
  let names = await offered(page, 'Releasable To');
  assert.ok(!names.includes('GEO') && !names.includes('MNG'), 'GEO and MNG are not offered at SECRET');
  assert.ok(names.includes('JPN'), 'JPN is offered at SECRET');
  await chooseClassification(page, 'TOP SECRET');
  names = await offered(page, 'Releasable To');
  for (const p of ['JPN', 'KOR', 'AUS', 'NZL', 'UKR', 'CHE', 'GEO']) assert.ok(!names.includes(p), `${p} not offered at TOP SECRET`);

  // A choice that becomes invalid is dropped, and the page says so.
  await chooseClassification(page, 'RESTRICTED');
  await tick(page, 'Releasable To', 'GEO');
  await chooseClassification(page, 'SECRET');
  assert.match(await page.textContent('#compose-error'), /GEO/);
  // The preview is refreshed asynchronously (the node marks the label): wait for it.
  await page.waitForFunction(() => !document.querySelector('#preview-banner').textContent.includes('GEO'),
    null, { timeout: 10000 });
  assert.ok(!(await page.locator('#preview-banner').textContent()).includes('GEO'));
  await page.context().close();

  // Japan's desk officer holds up to SECRET: TOP SECRET is not offered.
  const jp = await signedIn(chrome.browser, node.url, jpn);
  await openChannel(jp, channel);
  const classes = await jp.$$eval('#compose-form input[name=classification]', (els) => els.map((e) => e.value));
  assert.ok(classes.length > 0 && !classes.includes('TOP SECRET'), `offered ${classes}`);
  await jp.context().close();
});

test('a tag set panel opened just before a tick stays open, and the ticked box keeps the focus', async () => {
  // The tick's re-render runs before the panel's toggle event is handled
  // (both in one task here; under load a click can overtake it).
  const page = await signedIn(chrome.browser, node.url, nato);
  await openChannel(page, channel);
  await chooseClassification(page, 'RESTRICTED');
  const after = await page.evaluate(() => {
    const sel = '#tagsets details[data-tagset="Releasable To"]';
    const d = document.querySelector(sel);
    if (d.open) d.open = false;
    return new Promise((resolve) => setTimeout(() => {
      document.querySelector(sel).open = true;
      const box = document.querySelector(`${sel} .cat-opt[data-name="KOR"] input`);
      box.focus();
      box.click();
      resolve({ open: document.querySelector(sel).open, focused: document.activeElement?.value });
    }, 50));
  });
  assert.deepEqual(after, { open: true, focused: 'KOR' });
  await page.context().close();
});

test('the French toggle changes the markings', async () => {
  const text = unique('French marking check');
  await postApi(nato, relToJapan(), text);
  const me = await apiGet(jpn, '/api/v1/me');
  // A clearance listing classifications ({A|B|C}) is said "up to C" (page.test.mjs).
  const said = (m, upTo) => m && m.replace(/\{(?:[^{}|]*\|)+([^{}|]*)\}/g, `${upTo} $1`);
  const clearance = { en: said(me.clearance_marking ?? me.clearanceMarking, 'up to'),
    fr: said(me.clearance_marking_fr ?? me.clearanceMarkingFr, 'jusqu’à') };
  const page = await signedIn(chrome.browser, node.url, jpn);
  await openChannel(page, channel);
  const banner = itemCard(page, text).locator('.banner');
  const en = 'NATO RESTRICTED Releasable to JPN';
  const fr = 'NATO DIFFUSION RESTREINTE Communicable à Japon';
  assert.equal(await banner.textContent(), en);
  assert.equal(await page.textContent('#me-clearance'), clearance.en, 'the user\'s clearance, in English');
  await chooseClassification(page, 'RESTRICTED');
  await page.waitForFunction(() => /RESTRICTED/.test(document.querySelector('#preview-banner')?.textContent || ''));
  await page.click('#lang-fr');
  assert.equal(await page.getAttribute('#lang-fr', 'aria-pressed'), 'true');
  assert.equal(await page.getAttribute('html', 'lang'), 'fr');
  assert.equal(await banner.textContent(), fr, 'the list');
  if (clearance.fr) assert.equal(await page.textContent('#me-clearance'), clearance.fr, 'the user\'s clearance');
  assert.match(await page.textContent('#preview-banner'), /DIFFUSION RESTREINTE/, 'the compose preview');
  await itemCard(page, text).locator('button.link').click();
  await page.waitForSelector('#detail[open]');
  assert.equal(await page.textContent('#detail > .banner'), fr, 'the detail\'s banner');
  assert.ok((await page.textContent('#detail')).includes(en), 'the detail shows both markings');
  await page.keyboard.press('Escape');
  await page.waitForSelector('#detail:not([open])', { state: 'attached' });
  await page.click('#lang-en');
  assert.equal(await banner.textContent(), en);
  assert.equal(await page.textContent('#me-clearance'), clearance.en);
  assert.match(await page.textContent('#preview-banner'), /NATO RESTRICTED/);
  await page.context().close();
});

// A 1×1 PNG, for the image preview.
const PNG_1x1 = 'iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg==';

async function waitPosted(page) {
  await page.waitForFunction(() => document.getElementById('compose-status').dataset.itemId !== undefined ||
    document.getElementById('compose-error').textContent.trim() !== '');
  assert.equal((await page.textContent('#compose-error')).trim(), '', 'posted without error');
  return page.getAttribute('#compose-status', 'data-item-id');
}

test('a document attached in the page is posted, marked in the list, previewed and downloaded in the detail; a reader who may not see the item never gets it', async () => {
  const poster = await signedIn(chrome.browser, node.url, nato);
  const natoReader = await signedIn(chrome.browser, node.url, nato);
  const jpnReader = await signedIn(chrome.browser, node.url, jpn);
  for (const p of [poster, natoReader, jpnReader]) await openChannel(p, channel);

  // Markup in the document must come out as text, never as elements.
  const content = 'Situation report, annex A\n<b id="injected">not bold</b><img src=x id="injected-img">\nÉté — 夏\n';
  const bytes = Buffer.from(content, 'utf8');
  await chooseClassification(poster, 'RESTRICTED');
  await poster.setInputFiles('#compose-file', { name: 'annex-a.txt', mimeType: 'text/plain', buffer: bytes });
  const chosen = poster.locator('#compose-file-chosen');
  await chosen.locator('#compose-file-remove').waitFor();
  assert.match(await chosen.textContent(), new RegExp(`annex-a\\.txt\\s+text/plain, ${bytes.length} bytes`));
  const text = unique('NATO-only report with an annex');
  await poster.fill('#compose-body', text);
  await poster.click('#compose-post');
  const id = await waitPosted(poster);
  assert.match(await poster.textContent('#compose-status'), /with the document annex-a\.txt/);
  assert.equal(await chosen.isHidden(), true, 'the form is cleared for the next item');

  // NATO's reader: the item arrives live, marked as carrying a document.
  const card = itemCard(natoReader, text);
  await card.waitFor({ timeout: 15000 });
  const chip = card.locator('.attach-chip');
  assert.match(await chip.textContent(), new RegExp(`annex-a\\.txt · text/plain · ${bytes.length} bytes`), 'the document keeps its file name');
  assert.match(await chip.getAttribute('aria-label'), /Attached document: annex-a\.txt, text\/plain/);
  await chip.focus();
  await natoReader.keyboard.press('Enter');
  await natoReader.waitForSelector('#detail[open] #doc-preview');
  assert.equal(await natoReader.textContent('#doc-preview'), content, 'the text preview is the document, verbatim');
  assert.equal(await natoReader.locator('#detail #injected, #detail #injected-img').count(), 0, 'never markup');
  assert.match(await natoReader.textContent('#detail-doc'), /Media type\s*text\/plain/);
  assert.equal(await natoReader.textContent('#doc-file-name'), 'annex-a.txt', 'the detail names the file');
  const [download] = await Promise.all([natoReader.waitForEvent('download'), natoReader.click('#doc-download')]);
  assert.equal(download.suggestedFilename(), 'annex-a.txt', `saved under its own name (item ${id})`);
  assert.deepEqual(fs.readFileSync(await download.path()), bytes, 'the download is the document, byte for byte');
  await natoReader.keyboard.press('Escape');
  await natoReader.waitForSelector('#detail:not([open])', { state: 'attached' });
  assert.equal(await natoReader.evaluate(() => document.activeElement?.className), 'attach-chip', 'focus returns to where it was');

  // Japan's reader: not live, not listed, not by id, not the document.
  const marker = unique('Released to Japan after the annex');
  await postApi(nato, relToJapan(), marker);
  await itemCard(jpnReader, marker).waitFor({ timeout: 15000 });
  assert.equal(await itemCard(jpnReader, text).count(), 0, 'not delivered live to Japan');
  await openChannel(jpnReader, channel);
  assert.equal(await itemCard(jpnReader, text).count(), 0, 'not listed to Japan');
  for (const p of [`/api/v1/items/${id}`, `/api/v1/items/${id}/attachment`]) {
    const res = await fetch(node.url + p, { headers: { Authorization: `Bearer ${jpn.token}` } });
    const body = await res.text();
    assert.equal(res.status, 404, `${p} answers as for no item`);
    assert.ok(!body.includes('annex') && !body.includes(bytes.toString('base64')), `${p} leaks nothing`);
  }

  for (const p of [poster, natoReader, jpnReader]) {
    assert.deepEqual(p.errors, []);
    assert.deepEqual(p.foreign, [], 'the page fetched nothing but the node');
    await p.context().close();
  }
});

test('an attached image is previewed in the detail, and other types are offered for download only', async () => {
  const img = unique('Image annex');
  const imgId = await postApi(nato, relToJapan(), img, { mediaType: 'image/png', data: PNG_1x1 });
  const pdf = unique('PDF annex');
  const pdfBytes = Buffer.from('%PDF-1.4\n%âãÏÓ\n1 0 obj <<>> endobj\ntrailer <<>>\n%%EOF\n', 'latin1');
  await postApi(nato, relToJapan(), pdf, { mediaType: 'application/pdf', data: pdfBytes.toString('base64') });
  const page = await signedIn(chrome.browser, node.url, jpn);
  await openChannel(page, channel);

  await itemCard(page, img).locator('.attach-chip').click();
  await page.waitForSelector('#detail[open] img#doc-preview');
  await page.waitForFunction(() => {
    const i = document.querySelector('#doc-preview');
    return i && i.complete && i.naturalWidth === 1;
  }, null, { timeout: 10000 });
  assert.match(await page.getAttribute('#doc-preview', 'alt'), /image\/png/);
  assert.equal(await page.getAttribute('#doc-download', 'download'), `liaison-item-${imgId}.png`);
  await page.click('#detail button:has-text("Close")');
  await page.waitForSelector('#detail:not([open])', { state: 'attached' });

  await itemCard(page, pdf).locator('.attach-chip').click();
  await page.waitForSelector('#detail[open] #doc-download');
  assert.equal(await page.locator('#doc-preview').count(), 0, 'no inline preview of a PDF');
  assert.match(await page.textContent('#detail-doc'), /No preview for application\/pdf/);
  const [download] = await Promise.all([page.waitForEvent('download'), page.click('#doc-download')]);
  assert.match(download.suggestedFilename(), /^liaison-item-[0-9a-f-]{36}\.pdf$/);
  assert.deepEqual(fs.readFileSync(await download.path()), pdfBytes);
  assert.deepEqual(page.errors, []);
  await page.context().close();
});

/* Press key on the focused control and return the file chooser it opens.
 * Chromium now and then drops the first keyboard activation of a file input
 * under load (seen once in a CI run): try again, a few times, each time with
 * the control focused — the chooser is still opened by the keyboard only. */
async function chooserByKey(page, selector, key) {
  for (let attempt = 1; ; attempt++) {
    await page.focus(selector);
    try {
      const [chooser] = await Promise.all([
        page.waitForEvent('filechooser', { timeout: 5000 }), page.keyboard.press(key)]);
      return chooser;
    } catch (e) {
      if (attempt === 3) throw e;
    }
  }
}

test('the compose form works from the keyboard: message, document (refused when too large, removed), Ctrl+Enter posts', async () => {
  const page = await signedIn(chrome.browser, node.url, jpn);
  await openChannel(page, channel);
  await chooseClassification(page, 'RESTRICTED');
  await tick(page, 'Releasable To', 'JPN');
  await page.focus('#compose-body');
  const text = unique('Keyboard post with a document');
  await page.keyboard.type(text);
  await page.keyboard.press('Tab');
  assert.equal(await page.evaluate(() => document.activeElement?.id), 'compose-file', 'Tab reaches the document control');
  assert.equal(await page.evaluate(() => getComputedStyle(document.querySelector('label[for=compose-file]')).outlineStyle),
    'solid', 'its focus is visible');
  assert.equal(await page.evaluate(() => document.activeElement.labels[0].textContent.trim()), 'Attach a document…');

  // Enter opens the file chooser. Too large for the node's request limit:
  // refused beside the form, in plain words.
  const big = Buffer.alloc(800 * 1024, 0x41);
  const chooser = await chooserByKey(page, '#compose-file', 'Enter');
  assert.equal(chooser.isMultiple(), false, 'one document');
  await chooser.setFiles({ name: 'huge-scan.pdf', mimeType: 'application/pdf', buffer: big });
  await page.waitForFunction(() => /huge-scan\.pdf/.test(document.getElementById('compose-error').textContent));
  assert.match(await page.textContent('#compose-error'), /is 800 KB; this node accepts documents of at most 765 KB .*Choose a smaller file\./);
  assert.equal(await page.locator('#compose-file-chosen').isHidden(), true, 'nothing attached');

  // A fitting file: shown with name, type and size; Remove from the keyboard.
  const note = Buffer.from('Contact list for the exercise.\n');
  await page.setInputFiles('#compose-file', { name: 'contacts.txt', mimeType: 'text/plain', buffer: note });
  await page.locator('#compose-file-remove').waitFor();
  assert.equal((await page.textContent('#compose-error')).trim(), '', 'the refusal is gone');
  await page.focus('#compose-file');
  await page.keyboard.press('Tab');
  assert.equal(await page.evaluate(() => document.activeElement?.id), 'compose-file-remove', 'Tab reaches Remove');
  assert.match(await page.getAttribute('#compose-file-remove', 'aria-label'), /Remove the document contacts\.txt/);
  await page.keyboard.press('Enter');
  await page.waitForSelector('#compose-file-chosen', { state: 'hidden' });
  assert.equal(await page.evaluate(() => document.activeElement?.id), 'compose-file', 'focus goes back to the control');
  await page.setInputFiles('#compose-file', { name: 'contacts.txt', mimeType: 'text/plain', buffer: note });
  await page.locator('#compose-file-remove').waitFor();
  await page.keyboard.press('Tab');
  await page.keyboard.press('Tab');
  assert.equal(await page.evaluate(() => document.activeElement?.id), 'compose-post', 'then Post');

  // Ctrl+Enter in the message posts.
  await page.focus('#compose-body');
  await page.keyboard.press('Control+Enter');
  const id = await waitPosted(page);
  const item = await apiGet(jpn, `/api/v1/items/${id}`);
  assert.equal(item.body, text);
  assert.equal(item.attachment.mediaType, 'text/plain');
  assert.equal(Buffer.from(item.attachment.data, 'base64').toString(), note.toString(), 'posted base64-encoded');
  await itemCard(page, text).locator('.attach-chip').waitFor({ timeout: 15000 });
  assert.deepEqual(page.errors, []);
  await page.context().close();
});

test('a refusal by the node is shown beside the form, in plain words', async () => {
  // Japan's desk officer, a NATO-only label: the picker warns, the node refuses (403).
  const page = await signedIn(chrome.browser, node.url, jpn);
  await openChannel(page, channel);
  await chooseClassification(page, 'RESTRICTED');
  // Japan's desk officer starts released to Japan (page.test.mjs); here the
  // release is taken off and Context NATO ticked instead.
  const panel = page.locator('#tagsets details[data-tagset="Releasable To"]');
  await panel.locator('summary').click();
  await panel.locator('.cat-opt[data-name="JPN"] input').uncheck();
  await tick(page, 'Context', 'NATO');
  const rel = '#tagsets details[data-tagset="Releasable To"] .cat-opt input:checked';
  assert.equal(await page.locator(rel).count(), 0, 'no nation chosen');
  assert.match(await page.textContent('#label-notes'), /could not read this yourself \(Context: NATO/, 'the picker warns before posting, naming the part');
  await page.fill('#compose-body', unique('Refused post'));
  await page.click('#compose-post');
  await page.waitForFunction(() => document.getElementById('compose-error').textContent.trim() !== '');
  const err = await page.textContent('#compose-error');
  assert.match(err, /clearance/i, err);
  assert.match(err, /Context: NATO/, `the refusal says which part failed: ${err}`);
  assert.doesNotMatch(err, /forbidden|403|You may not post this: You may not/, 'plain words, said once');
  assert.equal(await page.getAttribute('#compose-error', 'role'), 'alert');
  assert.equal(await page.locator('#compose-form #compose-error').count(), 1, 'beside the form');
  assert.equal((await page.textContent('#compose-status')).trim(), '', 'nothing claims it was posted');
  await page.context().close();
});

test('a narrow window (400 px): nothing overflows sideways, and who is signed in stays in view', async () => {
  const page = await signedIn(chrome.browser, node.url, nato, { width: 400, height: 800 });
  await openChannel(page, channel);
  await page.waitForSelector('.item .attach-chip');
  const overflow = () => page.evaluate(() => {
    const w = document.documentElement.clientWidth;
    const wide = [];
    for (const el of document.querySelectorAll('body *')) {
      const r = el.getBoundingClientRect();
      if (r.width === 0 || r.right <= w + 1) continue;
      // Content inside a pane that scrolls sideways on purpose (the channel strip) is not overflow.
      let p = el.parentElement;
      let clipped = false;
      for (; p && p !== document.body; p = p.parentElement) {
        const o = getComputedStyle(p).overflowX;
        if (o === 'auto' || o === 'hidden' || o === 'scroll') {
          clipped = p.getBoundingClientRect().right <= w + 1;
          break;
        }
      }
      if (!clipped && !el.closest('dialog:not([open])')) wide.push(`${el.tagName.toLowerCase()}#${el.id}.${el.className}`);
    }
    return { scroll: document.documentElement.scrollWidth, width: w, wide: wide.slice(0, 5) };
  });
  let o = await overflow();
  assert.ok(o.scroll <= o.width, `page ${o.scroll} px wide in ${o.width} px`);
  assert.deepEqual(o.wide, [], 'no element sticks out');

  // The form folds away in a narrow window; the button unfolds it.
  assert.equal(await page.locator('#compose-form').isHidden(), true, 'the items come first');
  await page.focus('#compose-toggle');
  await page.keyboard.press('Enter');
  await page.waitForSelector('#compose-form', { state: 'visible' });
  assert.equal(await page.getAttribute('#compose-toggle', 'aria-expanded'), 'true');

  // The picker open, a document chosen: still nothing sideways.
  await tick(page, 'Releasable To', 'JPN');
  await page.setInputFiles('#compose-file', { name: 'a-rather-long-file-name-for-a-narrow-window-annex-b.txt', mimeType: 'text/plain', buffer: Buffer.from('x') });
  await page.locator('#compose-file-remove').waitFor();
  o = await overflow();
  assert.ok(o.scroll <= o.width, `with the picker open: ${o.scroll} px`);
  assert.deepEqual(o.wide, []);

  // Scrolled to the end, the user's name and clearance are still in view.
  await page.evaluate(() => window.scrollTo(0, document.documentElement.scrollHeight));
  await page.waitForFunction(() => window.scrollY > 0);
  for (const sel of ['#me-name', '#me-clearance']) {
    const r = await page.locator(sel).boundingBox();
    assert.ok(r && r.y >= 0 && r.y + r.height <= 800, `${sel} in view after scrolling (${JSON.stringify(r)})`);
  }

  // The detail of an item with a document fits too.
  await page.locator('.item .attach-chip').first().click();
  await page.waitForSelector('#detail[open] #doc-download');
  const d = await page.evaluate(() => {
    const dlg = document.getElementById('detail');
    const r = dlg.getBoundingClientRect();
    return { left: r.left, right: r.right, scroll: dlg.scrollWidth, client: dlg.clientWidth };
  });
  assert.ok(d.left >= 0 && d.right <= 400 && d.scroll <= d.client, `detail ${JSON.stringify(d)}`);
  await page.screenshot({ path: path.join(outDir, 'detail-narrow.png') });
  assert.deepEqual(page.errors, []);
  await page.context().close();
});

test('an item posted under the national (Japanese) policy shows its Japanese banner text and its NATO equivalent', async (t) => {
  if (!node.real) return t.skip('the mock node has no national policy: run against a real node (with-node.sh)');
  // JAPAN SECRET releasable to Japan and NATO, under the illustrative
  // Japanese policy the demo node loads beside NATO's.
  const label = { policy: 'JPN-ILLUSTRATIVE', classification: 'GOKUHI',
    categories: [{ tagSet: 'Release', values: ['JPN', 'NATO'] }] };
  const text = unique('Marked under the national policy');
  await postApi(jpn, label, text);
  for (const [who, user] of [['NATO', nato], ['Japan', jpn]]) {
    const page = await signedIn(chrome.browser, node.url, user);
    await openChannel(page, channel);
    const card = itemCard(page, text);
    await card.waitFor();
    assert.equal((await card.locator('.banner-ja').textContent()).trim(), '日本 極秘 開示先: 日本、NATO',
      `${who}: the Japanese marking is shown`);
    assert.equal(await card.locator('.banner-ja').getAttribute('lang'), 'ja');
    assert.match(await card.locator('.equivalent').textContent(), /NATO SECRET Releasable to JPN/,
      `${who}: the NATO equivalent is shown under the item's own banner`);
    const own = card.locator('.banner').first();
    assert.match(await own.textContent(), /JAPAN SECRET/);
    assert.equal(await own.evaluate((e) => getComputedStyle(e).backgroundColor),
      await page.evaluate((c) => { const d = document.createElement('div'); d.style.backgroundColor = c;
        document.body.append(d); const v = getComputedStyle(d).backgroundColor; d.remove(); return v; },
      bannerColours(policy, 'SECRET').background), `${who}: the banner takes NATO SECRET's colour`);
    if (who === 'NATO') {
      await card.scrollIntoViewIfNeeded();
      await card.screenshot({ path: path.join(docsImgDir, 'web-national-item.png') });
    }
    assert.deepEqual(page.errors, []);
    await page.context().close();
  }
});

/** The font families the browser drew an element's text with (CDP). */
async function fontsOf(page, selector) {
  const cdp = await page.context().newCDPSession(page);
  await cdp.send('DOM.enable');
  await cdp.send('CSS.enable');
  const { root } = await cdp.send('DOM.getDocument', { depth: -1 });
  const { nodeId } = await cdp.send('DOM.querySelector', { nodeId: root.nodeId, selector });
  const { fonts } = await cdp.send('CSS.getPlatformFontsForNode', { nodeId });
  await cdp.detach();
  return fonts.map((f) => f.familyName);
}

test('a Japanese desk officer composes under the national (Japanese) policy from the page; a NATO reader sees the NATO equivalent', async (t) => {
  if (!node.real) return t.skip('the mock node holds one policy: run against a real node (with-node.sh)');
  const page = await signedIn(chrome.browser, node.url, jpn);
  await openChannel(page, channel);
  // The node's own policy first, and by default.
  const options = await page.$$eval('#compose-policy option', (els) => els.map((e) => [e.value, e.textContent, e.selected]));
  assert.equal(options.length, 2, `the node's two policies are offered: ${JSON.stringify(options)}`);
  assert.match(options[0][1], /^NATO \(this node's policy\)$/);
  assert.equal(options[0][2], true, 'the node\'s policy is the default');
  const jpnPolicy = options.find((o) => o[1] === 'JPN-ILLUSTRATIVE');
  assert.ok(jpnPolicy, 'the illustrative Japanese policy is offered');

  await page.selectOption('#compose-policy', jpnPolicy[0]);
  await page.waitForSelector('#compose-form input[name=classification][value="GOKUHI"]');
  // The choice is kept for the tab: after a reload the form is under it again.
  await page.reload();
  await page.waitForSelector('#compose-form input[name=classification][value="GOKUHI"]');
  assert.equal(await page.inputValue('#compose-policy'), jpnPolicy[0], 'the choice is kept after a reload');
  // Its classifications, never above the clearance (SECRET: no TOKUTEI HIMITSU),
  // with their Japanese markings in a Japanese font.
  const classes = await page.$$eval('#compose-form input[name=classification]', (els) => els.map((e) => e.value));
  assert.deepEqual(classes, ['OPEN', 'TORIATSUKAI CHUI', 'HI', 'GOKUHI']);
  const chip = page.locator('#compose-form input[value="GOKUHI"] + label .chip-ja');
  assert.equal((await chip.textContent()).trim(), '極秘');
  assert.equal(await chip.getAttribute('lang'), 'ja');
  assert.match(await page.getAttribute('#compose-form input[value="GOKUHI"] + label', 'title'), /Equivalent under NATO: SECRET/);
  const fonts = await fontsOf(page, '#compose-form input[value="GOKUHI"] + label .chip-ja');
  assert.ok(fonts.some((f) => /IPA|CJK|Noto Sans JP/i.test(f)), `Japanese drawn with a Japanese font: ${fonts}`);
  // Default: released to Japan, at the second classification.
  assert.equal(await page.isChecked('#compose-form input[value="TORIATSUKAI CHUI"]'), true);
  assert.deepEqual(await offered(page, 'Release'), ['JPN', 'NATO', 'AUS', 'KOR', 'NZL', 'USA']);
  assert.equal((await page.locator('#tagsets details[data-tagset="Release"] .cat-opt[data-name="JPN"] .cat-ja').textContent()).trim(), '日本');

  await chooseClassification(page, 'GOKUHI');
  await tick(page, 'Release', 'NATO');
  await page.waitForFunction(() => /極秘/.test(document.querySelector('#preview .banner-ja')?.textContent || ''));
  assert.equal((await page.textContent('#preview .banner-ja')).trim(), '日本 極秘 開示先: 日本、NATO');
  assert.match(await page.textContent('#preview .equivalent'), /Equivalent under NATO: NATO SECRET Releasable to JPN/);
  assert.equal(await page.evaluate(() => getComputedStyle(document.getElementById('preview-banner')).backgroundColor),
    await page.evaluate((c) => { const d = document.createElement('div'); d.style.backgroundColor = c;
      document.body.append(d); const v = getComputedStyle(d).backgroundColor; d.remove(); return v; },
    bannerColours(policy, 'SECRET').background), 'the preview takes NATO SECRET\'s colour');
  // French words for the choice.
  await page.click('#lang-fr');
  await page.waitForFunction(() => /politique/i.test(document.getElementById('compose-policy-hint').textContent));
  assert.match(await page.textContent('#compose-policy-hint'), /équivalent NATO/);
  await page.click('#lang-en');
  await page.waitForFunction(() => /equivalent/.test(document.getElementById('compose-policy-hint').textContent));

  await page.locator('#compose').screenshot({ path: path.join(docsImgDir, 'web-compose-national.png') });
  const text = unique('Composed under the national policy');
  await post(page, text);
  assert.deepEqual(page.errors, []);
  await page.context().close();

  const reader = await signedIn(chrome.browser, node.url, nato);
  await openChannel(reader, channel);
  const card = itemCard(reader, text);
  await card.waitFor();
  assert.match(await card.locator('.equivalent').textContent(), /NATO SECRET Releasable to JPN/,
    'the NATO reader sees the item under its NATO equivalent');
  assert.equal((await card.locator('.banner-ja').textContent()).trim(), '日本 極秘 開示先: 日本、NATO');
  assert.deepEqual(reader.errors, []);
  await reader.context().close();
});
