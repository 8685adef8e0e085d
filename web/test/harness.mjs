// harness.mjs — what the browser tests share: the node to test against,
// its demo users, and Debian's chromium driven by playwright-core.
//
// Against a real node: LIAISON_URL=http://127.0.0.1:PORT and
// LIAISON_CREDENTIALS=DATA/demo-credentials.json (the file `liaison serve
// --demo` writes: [{user, organisation, clearance, token}]). Without
// LIAISON_URL the tests start the mock (test/mock-server.mjs).
// CHROMIUM overrides the browser path (default /usr/bin/chromium); the
// browser is never downloaded.
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';
import { startMock } from './mock-server.mjs';
import { startFront } from './front.mjs';

export const outDir = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../test-output');
// The screenshots the docs show (docs/img/) are rewritten only when asked
// (LIAISON_DOCS_IMG=1 web/run-tests.sh against a real node): a plain test
// run writes them to test-output/ and leaves the tracked files alone.
export const docsImgDir = process.env.LIAISON_DOCS_IMG === '1'
  ? path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../docs/img') : outDir;

/** {url, users: [{user, organisation, clearance, token}], close()} */
export async function startNode() {
  if (process.env.LIAISON_URL) {
    const file = process.env.LIAISON_CREDENTIALS;
    if (!file) throw new Error('LIAISON_URL is set but LIAISON_CREDENTIALS (demo-credentials.json) is not');
    const users = JSON.parse(fs.readFileSync(file, 'utf8'));
    const url = process.env.LIAISON_URL.replace(/\/$/, '');
    // A node that does not serve the page yet: put web/public/ in front of it.
    const home = await fetch(url + '/').catch(() => null);
    const served = home?.ok && (home.headers.get('content-type') || '').includes('text/html') &&
      (await home.text()).includes('js/app.js');
    if (!served) {
      const front = await startFront(url);
      console.log(`# ${url}/ does not serve the page: testing through ${front.url} (web/public + proxy)`);
      return { url: front.url, api: url, users, real: true, close: front.close };
    }
    return { url, users, real: true, close: () => {} };
  }
  const m = await startMock();
  return { url: m.url, users: m.credentials, real: false, close: m.close };
}

/** The demo user of a nation: 'JPN' finds Japan's, 'NATO' the alliance
 *  staff (by organisation, else by the clearance marking). */
export function userOf(users, nation) {
  const words = {
    JPN: [/japan/i, /\bJPN\b/], KOR: [/korea/i, /\bKOR\b/], NATO: [/^NATO\b/],
  }[nation] || [new RegExp(`\\b${nation}\\b`)];
  const hit = users.find((u) => words.some((w) => w.test(u.organisation))) ||
    users.find((u) => words.some((w) => w.test(u.clearance || '')));
  if (!hit) throw new Error(`no demo user for ${nation} among ${users.map((u) => u.organisation).join(', ')}`);
  return hit;
}

export async function launch() {
  // playwright gives every launch a fresh temporary profile (it refuses an
  // explicit --user-data-dir with launch()) and removes it on close.
  const browser = await chromium.launch({
    executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
    headless: true,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
      '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
  return {
    browser,
    close: () => browser.close(),
  };
}

/** A fresh page signed in as `user` at `url`; requests that leave the node
 *  fail the test (the page must need nothing but the node). */
export async function signedIn(browser, url, user, viewport = { width: 1366, height: 820 }) {
  const context = await browser.newContext({ viewport });
  const page = await context.newPage();
  const origin = new URL(url).origin;
  const foreign = [];
  await page.route('**/*', (route) => {
    const u = route.request().url();
    if (u.startsWith(origin) || u.startsWith('data:')) return route.continue();
    foreign.push(u);
    return route.abort();
  });
  page.foreign = foreign;
  const errors = [];
  page.on('pageerror', (e) => errors.push(String(e)));
  page.errors = errors;
  await page.goto(url + '/');
  await page.waitForSelector('#signin-password'); // the page's script is wired (else a submit reloads)
  await page.fill('#token', user.token);
  await page.click('#signin-form button[type=submit]');
  await page.waitForSelector('#app:not([hidden])');
  await page.waitForSelector('#live[data-state=live]');
  return page;
}
