// page.test.mjs — the desk officer's page (issue 11, "The page"): each test
// failed on the page before the fix it proves.
//
// - a partner's user starts with a label they may post; a refusal names
//   the part that fails;
// - eight nations ticked: the preview shows the whole marking; at 400 px
//   nothing scrolls sideways and every nation is reachable;
// - while a channel loads, or when its load fails, no other channel's items
//   stay listed under its name;
// - no policy jargon on screen; nations with their names (English, French);
//   named releases (presets) tick their nations;
// - every classification chip and banner meets WCAG AA (4.5:1), measured on
//   the computed colours;
// - French on: no English interface text left in the main view and
//   compose (the message table is the reference); screenshots of the main
//   view and compose in English and French go to docs/img/ (with
//   LIAISON_DOCS_IMG=1; else to test-output/);
// - times carry their zone; UTC is a choice remembered across reloads;
// - back, forward and #channel= in the address work; a favicon.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { startNode, userOf, launch, signedIn, docsImgDir } from './harness.mjs';
import { MESSAGES } from '../public/js/i18n.js';

const imgDir = docsImgDir;

let node;
let chrome;
let nato;
let jpn;
let channels;

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
  channels = (await apiGet(nato, '/api/v1/channels')).channels.map((c) => c.name);
});

after(async () => {
  await chrome?.close();
  node?.close();
});

const unique = (what) => `${what} ${Date.now()}-${Math.random().toString(36).slice(2, 8)}`;

async function listed(page, name) {
  await page.waitForSelector(`.channel.current[data-channel="${name}"]`);
  await page.waitForFunction(() => {
    const t = document.getElementById('list-status').textContent;
    return t.trim() !== '' && !/Loading|Chargement/.test(t);
  });
}

async function openPanel(page, tagSet) {
  const panel = page.locator(`#tagsets details[data-tagset="${tagSet}"]`).first();
  if (!(await panel.evaluate((d) => d.open))) await panel.locator('summary').click();
  return panel;
}

test('a partner\'s user starts with a label they may post (released to their nation), and it posts', async () => {
  const page = await signedIn(chrome.browser, node.url, jpn);
  await listed(page, channels[0]);
  await page.waitForSelector('#preview-banner');
  assert.equal(await page.textContent('#preview-banner'), 'NATO RESTRICTED Releasable to JPN');
  assert.doesNotMatch(await page.textContent('#label-notes'), /could not read/, 'no warning on the default');
  const text = unique('Default label post');
  await page.fill('#compose-body', text);
  await page.click('#compose-post');
  await page.waitForFunction(() => document.getElementById('compose-status').dataset.itemId !== undefined ||
    document.getElementById('compose-error').textContent.trim() !== '');
  assert.equal((await page.textContent('#compose-error')).trim(), '', 'the node accepts the default label');
  const id = await page.getAttribute('#compose-status', 'data-item-id');
  const item = await apiGet(jpn, `/api/v1/items/${encodeURIComponent(id)}`);
  assert.equal(item.marking, 'NATO RESTRICTED Releasable to JPN');
  await page.context().close();
});

test('eight nations: the preview shows the whole marking; at 400 px nothing scrolls sideways', async () => {
  const eight = ['AUS', 'AUT', 'CHE', 'FIN', 'IRL', 'JPN', 'KOR', 'NZL'];
  for (const viewport of [{ width: 1366, height: 820 }, { width: 400, height: 800 }]) {
    const page = await signedIn(chrome.browser, node.url, nato, viewport);
    await listed(page, channels[0]);
    if (viewport.width < 760) await page.click('#compose-toggle');
    const panel = await openPanel(page, 'Releasable To');
    for (const n of eight) await panel.locator(`.cat-opt[data-name="${n}"] input`).check();
    await page.waitForFunction(() => /KOR/.test(document.getElementById('preview-banner')?.textContent || ''));
    const b = await page.evaluate(() => {
      const el = document.getElementById('preview-banner');
      const r = el.getBoundingClientRect();
      const box = el.parentElement.getBoundingClientRect();
      return { text: el.textContent, sw: el.scrollWidth, cw: el.clientWidth, sh: el.scrollHeight, ch: el.clientHeight,
        right: r.right, boxRight: box.right, vw: document.documentElement.clientWidth };
    });
    assert.equal(b.text, `NATO RESTRICTED Releasable to ${eight.join(', ')}`, 'the marking that will be posted');
    assert.ok(b.sw <= b.cw && b.sh <= b.ch + 1, `the preview is not cut off (${JSON.stringify(b)})`);
    assert.ok(b.right <= b.vw, 'the preview is inside the window');
    const picked = await panel.locator('summary .ts-picked').evaluate((el) => ({ sw: el.scrollWidth, cw: el.clientWidth }));
    assert.ok(picked.sw <= picked.cw, 'the chosen nations are not cut off in the summary either');
    const o = await page.evaluate(() => {
      const w = document.documentElement.clientWidth;
      const off = [...document.querySelectorAll('#tagsets .cat-opt')].filter((el) => el.getBoundingClientRect().right > w + 1)
        .map((el) => el.dataset.name);
      return { scroll: document.documentElement.scrollWidth, w, off };
    });
    assert.ok(o.scroll <= o.w, `no sideways scroll at ${viewport.width} px (${o.scroll} px wide)`);
    assert.deepEqual(o.off, [], 'every nation in view');
    await page.context().close();
  }
});

test('while a channel loads, and when its load fails, no other channel\'s items are listed under its name', async () => {
  const [a, b, c] = channels;
  const page = await signedIn(chrome.browser, node.url, nato);
  await listed(page, a);
  assert.ok(await page.locator('#items .item').count() > 0, `${a} has items`);
  let release;
  const held = new Promise((r) => { release = r; });
  await page.route(`**/api/v1/channels/${b}/items**`, async (route) => { await held; await route.continue(); });
  await page.route(`**/api/v1/channels/${c}/items**`, (route) => route.fulfill({
    status: 503, contentType: 'application/json', body: '{"error":"unavailable","message":"busy"}' }));
  await page.click(`.channel[data-channel="${b}"]`);
  await page.waitForFunction((n) => document.getElementById('view-title').textContent === `#${n}`, b);
  assert.equal(await page.locator('#items .item').count(), 0, `nothing listed under #${b} while it loads`);
  assert.match(await page.textContent('#list-status'), /Loading/);
  release();
  await listed(page, b);
  await page.click(`.channel[data-channel="${c}"]`);
  await page.waitForFunction(() => /could not be loaded/.test(document.getElementById('list-status').textContent));
  assert.equal(await page.textContent('#view-title'), `#${c}`);
  assert.equal(await page.locator('#items .item').count(), 0, `nothing listed under #${c} after its load failed`);
  await page.context().close();
});

test('no policy jargon on screen; nations have their names in English and French; a named release ticks its nations', async () => {
  const page = await signedIn(chrome.browser, node.url, jpn);
  await listed(page, channels[0]);
  for (const ts of ['Releasable To', 'Context', 'Additional Sensitivity']) {
    const p = page.locator(`#tagsets details[data-tagset="${ts}"]`);
    if (await p.count()) await openPanel(page, ts);
  }
  await page.locator('#items .item button.link').first().click();
  await page.waitForSelector('#detail[open]');
  const text = await page.evaluate(() => document.body.innerText);
  for (const jargon of [/enumerated/i, /\bpermissive\b/i, /\brestrictive\b/i, /Context values/i, /\{[A-Z ]+\|/, /LACV/, /tagType/]) {
    assert.doesNotMatch(text, jargon, `no ${jargon} on screen`);
  }
  await page.keyboard.press('Escape');
  const jp = page.locator('#tagsets details[data-tagset="Releasable To"] .cat-opt[data-name="JPN"] label');
  assert.match(await jp.textContent(), /JPN\s*Japan/);
  assert.match(await page.locator('#tagsets details[data-tagset="Releasable To"] .cat-opt[data-name="NZL"] label').textContent(), /New Zealand/);
  await page.click('#lang-fr');
  assert.match(await jp.textContent(), /JPN\s*Japon/);
  assert.match(await page.locator('#tagsets details[data-tagset="Releasable To"] .cat-opt[data-name="KOR"] label').textContent(), /République de Corée/);
  await page.click('#lang-en');
  // The operator's named release AP4 (web/public/presets.json).
  const ap4 = page.locator('#tagsets .preset[data-preset="AP4"]');
  assert.match(await ap4.getAttribute('aria-label'), /AP4: Australia, Japan, Republic of Korea and New Zealand/);
  await ap4.click();
  await page.waitForFunction(() => /AUS, JPN, KOR, NZL/.test(document.getElementById('preview-banner')?.textContent || ''));
  assert.equal(await page.textContent('#preview-banner'), 'NATO RESTRICTED Releasable to AUS, JPN, KOR, NZL');
  await page.context().close();
});

function parse(rgb) {
  const m = rgb.match(/rgba?\(([\d.]+),\s*([\d.]+),\s*([\d.]+)/);
  return m.slice(1, 4).map(Number);
}
function lum([r, g, b]) {
  const ch = [r, g, b].map((v) => v / 255).map((v) => (v <= 0.03928 ? v / 12.92 : ((v + 0.055) / 1.055) ** 2.4));
  return 0.2126 * ch[0] + 0.7152 * ch[1] + 0.0722 * ch[2];
}
function ratio(a, b) {
  const [hi, lo] = [lum(parse(a)), lum(parse(b))].sort((x, y) => y - x);
  return (hi + 0.05) / (lo + 0.05);
}

test('every classification chip and banner meets WCAG AA contrast (4.5:1), chosen or not', async () => {
  const page = await signedIn(chrome.browser, node.url, nato);
  await listed(page, channels[0]);
  // The background behind a chip is its own, else its ancestors' first opaque one.
  const colours = () => page.evaluate(() => {
    const bg = (el) => {
      for (let e = el; e; e = e.parentElement) {
        const c = getComputedStyle(e).backgroundColor;
        if (!/rgba\(.*,\s*0\)$/.test(c) && c !== 'transparent') return c;
      }
      return 'rgb(255, 255, 255)';
    };
    return [...document.querySelectorAll('.class-chip, .banner')].map((el) => ({
      what: `${el.className} ${el.textContent}`, fg: getComputedStyle(el).color, bg: bg(el) }));
  });
  const seen = new Set();
  const bad = [];
  const names = await page.$$eval('#compose-form input[name=classification]', (els) => els.map((e) => e.value));
  assert.ok(names.includes('TOP SECRET'), 'NATO staff are offered TOP SECRET');
  for (const n of names) {
    await page.click(`#compose-form input[name=classification][value="${n}"] + label`);
    await page.waitForFunction((v) => document.getElementById('preview-banner')?.dataset.classification === v, n);
    for (const c of await colours()) {
      const r = ratio(c.fg, c.bg);
      seen.add(c.what);
      if (r < 4.5) bad.push(`${c.what}: ${c.fg} on ${c.bg} = ${r.toFixed(2)}:1`);
    }
  }
  assert.ok(seen.size > names.length, 'chips and banners were measured');
  assert.deepEqual([...new Set(bad)], []);
  await page.context().close();
});

/** The interface's English strings (not the node's data), longest first. */
function englishStrings() {
  return Object.entries(MESSAGES.en)
    .filter(([k, v]) => typeof v === 'string' && v !== MESSAGES.fr[k] && v.length >= 4)
    .map(([, v]) => v).sort((a, b) => b.length - a.length);
}

/** The text a user sees or hears in `root` that is the page's own (not
 *  translate="no" data): text nodes and aria-label/placeholder/title. */
function uiText(page, selector) {
  return page.evaluate((sel) => {
    const out = [];
    const own = (el) => !el.closest('[translate="no"]') && !el.closest('[hidden]');
    for (const root of document.querySelectorAll(sel)) {
      const walker = document.createTreeWalker(root, NodeFilter.SHOW_TEXT);
      for (let n = walker.nextNode(); n; n = walker.nextNode()) {
        if (own(n.parentElement) && n.textContent.trim()) out.push(n.textContent.trim());
      }
      for (const el of [root, ...root.querySelectorAll('*')]) {
        if (!own(el)) continue;
        for (const a of ['aria-label', 'placeholder', 'title']) if (el.getAttribute(a)) out.push(el.getAttribute(a));
      }
    }
    return out;
  }, selector);
}

test('French on: no English interface text remains in the main view and compose; screenshots in both languages', async () => {
  fs.mkdirSync(imgDir, { recursive: true });
  const page = await signedIn(chrome.browser, node.url, jpn, { width: 1366, height: 820 });
  await listed(page, channels[0]);
  await page.waitForSelector('#items .item');
  const english = englishStrings();
  const leftover = (texts) => english.filter((s) => texts.some((x) => x.includes(s)));
  assert.ok(leftover(await uiText(page, '#app')).length > 5, 'the check sees English while English is on');
  await page.screenshot({ path: path.join(imgDir, 'web-main.png') });
  await page.click('#lang-fr');
  await page.waitForFunction(() => document.documentElement.lang === 'fr');
  await openPanel(page, 'Releasable To');
  await page.waitForSelector('#preview-banner');
  assert.deepEqual(leftover(await uiText(page, '#app')), [], 'no English left (main view and compose)');
  await page.screenshot({ path: path.join(imgDir, 'web-main-fr.png') });
  // The whole form, the nations open: a window tall enough for it.
  await page.setViewportSize({ width: 1366, height: 1500 });
  await page.locator('#compose').screenshot({ path: path.join(imgDir, 'web-compose-fr.png') });
  await page.click('#lang-en');
  await page.locator('#compose').screenshot({ path: path.join(imgDir, 'web-compose.png') });
  for (const f of ['web-main.png', 'web-main-fr.png', 'web-compose.png', 'web-compose-fr.png']) {
    assert.ok(fs.statSync(path.join(imgDir, f)).size > 10000, `${f} written`);
  }
  await page.context().close();
});

test('times show their zone; UTC is a choice remembered across reloads', async () => {
  const context = await chrome.browser.newContext({ viewport: { width: 1366, height: 820 }, timezoneId: 'Asia/Tokyo' });
  const page = await context.newPage();
  await page.goto(node.url + '/');
  await page.waitForSelector('#signin-password'); // the page's script is wired
  await page.fill('#token', jpn.token);
  await page.click('#signin-form button[type=submit]');
  await listed(page, channels[0]);
  const first = () => page.locator('#items .item time').first().textContent();
  assert.match(await first(), /GMT\+9|JST/, `local time with its zone: ${await first()}`);
  await page.click('#zone-utc');
  assert.match(await first(), /UTC/);
  assert.equal(await page.getAttribute('#zone-utc', 'aria-pressed'), 'true');
  await page.reload();
  await listed(page, channels[0]);
  assert.match(await first(), /UTC/, 'remembered');
  await page.click('#zone-local');
  assert.match(await first(), /GMT\+9|JST/);
  await context.close();
});

test('back, forward and #channel= in the address move between channels; the page has a favicon', async () => {
  const [a, b, c] = channels;
  const page = await signedIn(chrome.browser, node.url, nato);
  await listed(page, a);
  await page.click(`.channel[data-channel="${b}"]`);
  await listed(page, b);
  assert.ok(page.url().endsWith(`#channel=${encodeURIComponent(b)}`));
  await page.goBack();
  await listed(page, a);
  assert.equal(await page.textContent('#view-title'), `#${a}`);
  await page.goForward();
  await listed(page, b);
  await page.evaluate((n) => { location.hash = `#channel=${encodeURIComponent(n)}`; }, c);
  await listed(page, c);
  assert.equal(await page.textContent('#view-title'), `#${c}`);
  const href = await page.evaluate(() => document.querySelector('link[rel=icon]')?.href);
  assert.ok(href, 'a favicon link');
  const res = await fetch(href);
  assert.equal(res.status, 200);
  assert.match(res.headers.get('content-type'), /image\/svg\+xml/);
  await page.context().close();
});
