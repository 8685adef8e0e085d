// peers.test.mjs — the administrator's peers view (issue 10), in Debian's
// chromium against a real node (skipped with the mock node, which has no
// peers): the demo's administrator registers a peer through the API (a
// certificate made by with-node.sh), opens "Peers" and sees it with its
// nation, address, fingerprint, classification, policy and state, in
// English and in French; a member has no such button and the node refuses
// the list. A channel kept local is marked in the channel list (en/fr), and
// a channel that is not, is not.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { startNode, launch, signedIn, outDir } from './harness.mjs';

let node;
let chrome;
const byName = (name) => node.users.find((u) => u.user === name);
const real = !!process.env.LIAISON_URL && !!process.env.LIAISON_PEER_CERT;
const api = () => node.api || node.url;

before(async () => {
  node = await startNode();
  if (node.real) chrome = await launch();
});

after(async () => {
  await chrome?.close();
  node?.close();
});

test('the administrator sees the node\'s peers in English and in French', { skip: !real }, async () => {
  const admin = byName('marco.bellini'); // the demo's administrator (data/demo.json)
  assert.ok(admin?.token, 'the demo has an administrator with a token');
  const certificate = fs.readFileSync(process.env.LIAISON_PEER_CERT, 'utf8');
  const add = await fetch(`${api()}/api/v1/peers`, {
    method: 'POST',
    headers: { Authorization: `Bearer ${admin.token}`, 'Content-Type': 'application/json' },
    body: JSON.stringify({ name: 'JPN MOD', url: 'https://jpn.example:8472', nation: 'JPN', certificate, maxClassification: 'SECRET' }),
  });
  assert.equal(add.status, 201, `the peer is added (${await add.text()})`);
  const listed = await (await fetch(`${api()}/api/v1/peers`, { headers: { Authorization: `Bearer ${admin.token}` } })).json();
  const want = listed.peers.find((p) => p.name === 'JPN MOD');
  assert.ok(want?.fingerprint, 'the API gives its fingerprint');

  const page = await signedIn(chrome.browser, node.url, admin);
  await page.click('#peers-open');
  await page.waitForSelector('#peers-dialog tbody tr[data-peer="JPN MOD"]');
  const row = '#peers-dialog tr[data-peer="JPN MOD"]';
  assert.equal(await page.textContent(`${row} th`), 'JPN MOD');
  assert.equal(await page.textContent(`${row} .peer-nation`), 'JPN');
  assert.equal(await page.textContent(`${row} .peer-url`), 'https://jpn.example:8472');
  assert.equal(await page.textContent(`${row} .peer-fingerprint`), want.fingerprint);
  assert.equal(await page.textContent(`${row} .peer-max`), 'SECRET');
  // Its policy: registered without one, it decides under ours.
  assert.equal(want.policy, (await (await fetch(`${api()}/api/v1/policy`, { headers: { Authorization: `Bearer ${admin.token}` } })).json()).id);
  assert.equal(await page.textContent(`${row} .peer-policy`), `${want.policyName} (this node’s policy)${want.policy}`);
  assert.equal(await page.textContent(`${row} .peer-policy-oid`), want.policy);
  // Its sender starts with the registration and cannot reach the made-up
  // address: new until its first attempt, down (with its error) after.
  const state = await page.textContent(`${row} .peer-state`);
  const error = await page.textContent(`${row} .peer-error`);
  assert.ok(['new (never reached)', 'down (retrying)'].includes(state), state);
  assert.ok(state.startsWith('new') ? error === 'none' : error !== 'none' && error !== '', error);
  assert.equal(await page.textContent(`${row} .peer-contact`), 'never');
  assert.equal(await page.textContent(`${row} .peer-waiting`), String(want.waiting));
  assert.match(await page.textContent('#peers-status'), /^\d+ peers?\.$/);
  assert.equal(await page.textContent('#peers-title'), 'Peers');
  await page.screenshot({ path: path.join(outDir, 'peers.png') });
  await page.click('#peers-dialog form[method=dialog] button');

  await page.click('#lang-fr');
  await page.waitForFunction(() => document.documentElement.lang === 'fr');
  assert.equal(await page.textContent('#peers-open'), 'Pairs');
  await page.click('#peers-open');
  await page.waitForFunction(() => document.getElementById('peers-title')?.textContent === 'Nœuds pairs');
  assert.ok(['nouveau (jamais joint)', 'injoignable (nouvel essai)']
    .includes(await page.textContent(`${row} .peer-state`)));
  assert.equal(await page.textContent(`${row} .peer-contact`), 'jamais');
  const heads = await page.$$eval('#peers-dialog thead th', (ths) => ths.map((th) => th.textContent));
  assert.deepEqual(heads.slice(0, 3), ['Nom', 'Nation', 'Adresse']);
  assert.ok(heads.includes('Politique'), heads.join(', '));
  assert.equal(await page.textContent(`${row} .peer-policy`), `${want.policyName} (la politique de ce nœud)${want.policy}`);
  assert.ok(heads.includes('État') && heads.includes('Certificat (SHA-256)'), heads.join(', '));
  await page.screenshot({ path: path.join(outDir, 'peers-fr.png') });
  await page.click('#peers-dialog form[method=dialog] button');
  await page.click('#lang-en');
  assert.deepEqual(page.errors, []);
  assert.deepEqual(page.foreign, []);
  await page.context().close();
});

test('a user who is not an administrator has no peers view, and the node refuses the list', { skip: !real }, async () => {
  const member = byName('james.whitfield'); // member and release authority
  const page = await signedIn(chrome.browser, node.url, member);
  assert.equal(await page.locator('#peers-open').count(), 0);
  assert.equal(await page.locator('#peers-dialog').count(), 0);
  const res = await fetch(`${api()}/api/v1/peers`, { headers: { Authorization: `Bearer ${member.token}` } });
  assert.equal(res.status, 403);
  await page.context().close();
});

test('a channel kept local is marked in the channel list, in English and in French', { skip: !process.env.LIAISON_URL }, async () => {
  const admin = byName('marco.bellini');
  const stamp = Date.now();
  const make = async (name, local) => {
    const res = await fetch(`${api()}/api/v1/channels`, {
      method: 'POST',
      headers: { Authorization: `Bearer ${admin.token}`, 'Content-Type': 'application/json' },
      body: JSON.stringify({ name, purpose: 'a test channel', local }),
    });
    assert.equal(res.status, 201, `channel ${name} is made (${await res.text()})`);
  };
  const kept = `kept-here-${stamp}`;
  const shared = `shared-${stamp}`;
  await make(kept, true);
  await make(shared, false);
  const page = await signedIn(chrome.browser, node.url, byName('kenji.watanabe'));
  const mark = (c) => `.channel[data-channel="${c}"] .local-mark`;
  assert.equal(await page.textContent(mark(kept)), 'local');
  assert.equal(await page.getAttribute(mark(kept), 'title'), 'Kept local: its items stay on this node and go to no peer.');
  assert.equal(await page.locator(mark(shared)).count(), 0, 'a shared channel has no mark');
  assert.equal(await page.locator('.local-mark').count(), 1, 'only the local channel is marked');
  await page.click('#lang-fr');
  await page.waitForFunction(() => document.documentElement.lang === 'fr');
  assert.equal(await page.getAttribute(mark(kept), 'title'), 'Gardé local : ses éléments restent sur ce nœud et ne vont à aucun pair.');
  await page.locator(`.channel[data-channel="${kept}"]`).screenshot({ path: path.join(outDir, 'channel-local.png') });
  assert.deepEqual(page.errors, []);
  await page.context().close();
});
