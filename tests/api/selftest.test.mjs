// tests/api/selftest.test.mjs — the validating proxy must be able to fail.
// A real `liaison serve --demo` answers the same few requests through the
// proxy, once with docs/api/openapi.yaml (no violation: check-report.sh
// passes) and once per deliberately wrong fragment of it (an undocumented
// status, an accepted out-of-range value, a body, a content type, a header,
// a stream event): each must be reported as a violation and make
// check-report.sh fail. The spec itself must be valid OpenAPI 3.0 (checked
// here, once, not by each proxy). Also the checker's pieces on canned input.
//
//   LIAISON_EXE=build/src/cli/liaison LIAISON_OPENAPI_SPEC=docs/api/openapi.yaml \
//     node --test tests/api/selftest.test.mjs
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { checkSpec, unsafeIntegers } from './conformance.mjs';

const here = path.dirname(fileURLToPath(import.meta.url));
const exe = process.env.LIAISON_EXE;
const specPath = process.env.LIAISON_OPENAPI_SPEC || path.join(here, '..', '..', 'docs', 'api', 'openapi.yaml');
const spec = fs.readFileSync(specPath, 'utf8');
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'liaison-openapi-selftest-'));

// Start a child and resolve with the URL it says it listens on.
function listening(child, pattern) {
  return new Promise((resolve, reject) => {
    let out = '';
    const timer = setTimeout(() => reject(new Error(`no "${pattern}" in: ${out}`)), 120000);
    child.stdout.on('data', (d) => {
      out += d;
      const m = new RegExp(`${pattern}(http://127\\.0\\.0\\.1:\\d+)`).exec(out);
      if (m) { clearTimeout(timer); resolve(m[1]); }
    });
    child.on('exit', (code) => { clearTimeout(timer); reject(new Error(`exited ${code}: ${out}`)); });
  });
}

let node;
let nodeUrl;
let token;
before(async () => {
  assert.ok(exe, 'LIAISON_EXE names the liaison binary');
  node = spawn(exe, ['serve', '--demo', '--data-dir', path.join(tmp, 'data'), '--listen', '127.0.0.1:0', '--metrics-listen', 'none'],
    { stdio: ['ignore', 'pipe', 'inherit'] });
  nodeUrl = await listening(node, 'listening on ');
  const creds = JSON.parse(fs.readFileSync(path.join(tmp, 'data', 'demo-credentials.json'), 'utf8'));
  token = creds.find((c) => c.user === 'ingrid.halvorsen').token;
});
after(async () => {
  // Wait for the node to exit before removing its data directory: it writes
  // there while stopping (its last audit record, the anchor), and a removal
  // racing it fails with ENOTEMPTY (seen under a loaded machine).
  if (node && node.exitCode === null && node.signalCode === null) {
    const exited = new Promise((resolve) => node.once('exit', resolve));
    node.kill('SIGTERM');
    await exited;
  }
  fs.rmSync(tmp, { recursive: true, force: true });
});

// The traffic: a few requests that touch every kind of check.
async function traffic(base) {
  const auth = { authorization: `Bearer ${token}` };
  const done = [];
  for (const [p, headers] of [
    ['/healthz', {}],
    ['/metrics', {}],
    ['/api/v1/me', {}],
    ['/api/v1/items/999999', auth],
    ['/api/v1/channels/cyber-defence/items?limit=3', auth],
  ]) {
    const r = await fetch(base + p, { headers });
    done.push(`${p} ${r.status}`);
    await r.arrayBuffer();
  }
  // The stream replays the visible items after Last-Event-ID 0: read the
  // first event, then hang up.
  const ac = new AbortController();
  const r = await fetch(`${base}/api/v1/stream?channel=cyber-defence`,
    { headers: { ...auth, 'last-event-id': '0' }, signal: ac.signal });
  const reader = r.body.getReader();
  let text = '';
  while (!/\nevent: item\n[^]*?\n\n/.test(text)) {
    const { value, done: end } = await reader.read();
    if (end) break;
    text += new TextDecoder().decode(value);
  }
  ac.abort();
  done.push(`stream ${r.status}`);
  return done;
}

// Run the traffic through a proxy on the given spec text; the report and
// check-report.sh's exit status.
let runs = 0;
async function throughProxy(specText) {
  const dir = path.join(tmp, `run-${++runs}`);
  fs.mkdirSync(dir);
  const file = path.join(dir, 'openapi.yaml');
  fs.writeFileSync(file, specText);
  const report = path.join(dir, 'report.txt');
  const proxy = spawn(process.execPath, [path.join(here, 'openapi-proxy.mjs'), '--spec', file,
    '--target', nodeUrl, '--report', report], { stdio: ['ignore', 'pipe', 'inherit'] });
  const base = await listening(proxy, 'openapi proxy listening on ');
  await traffic(base);
  await new Promise((resolve) => { proxy.on('exit', resolve); proxy.kill('SIGTERM'); });
  const check = spawnSync(path.join(here, 'check-report.sh'), [report], { encoding: 'utf8' });
  return { report: fs.readFileSync(report, 'utf8'), status: check.status };
}

// Replace one fragment of the spec (which must be there exactly once).
function wrong(from, to) {
  assert.equal(spec.split(from).length, 2, `the fragment occurs once: ${from}`);
  return spec.replace(from, to);
}

test('the spec is valid OpenAPI 3.0', async () => {
  await checkSpec(specPath);
});

test('a spec that is not valid OpenAPI is refused (a comma splitting a description into keys)', async () => {
  const file = path.join(tmp, 'invalid.yaml');
  fs.writeFileSync(file, wrong("description: 'SHA-256 (hex) over label, body and attachment, bound together (docs/STORE.md).'",
    'description: SHA-256 (hex) over label, body and attachment, bound together (docs/STORE.md).'));
  await assert.rejects(checkSpec(file), /Document is not valid OpenAPI/);
});

test('the spec as it is: the same traffic conforms and check-report.sh passes', async () => {
  const { report, status } = await throughProxy(spec);
  assert.doesNotMatch(report, /^violation:/m, report);
  assert.match(report, /^checked [1-9]\d* exchanges, 0 violations$/m);
  assert.equal(status, 0);
});

const FRAGMENTS = [
  ['an undocumented status (404 dropped from GET /api/v1/items/{id})',
    "'404':\n          description: No such item — or one the caller may not see, or one withheld because it was altered in the database (the same answer).",
    "'410':\n          description: No such item — or one the caller may not see, or one withheld because it was altered in the database (the same answer).",
    /status 404 is not documented for getItem/],
  ['an accepted out-of-range value (limit at most 2 in listings)',
    "schema: { type: integer, minimum: 1, maximum: 1000, default: 100 }\n      responses:\n        '200':\n          description: |\n            The visible items.",
    "schema: { type: integer, minimum: 1, maximum: 2, default: 100 }\n      responses:\n        '200':\n          description: |\n            The visible items.",
    /limit=3 -> 200: the spec calls this request invalid \(\/query\/limit must be <= 2\)/],
  ['a body that does not match (healthz status "fine")',
    'status: { type: string, enum: [ok] }',
    'status: { type: string, enum: [fine] }',
    /GET \/healthz -> 200: body: \/status must be equal to one of the allowed values/],
  ['an undocumented content type (healthz as plain text)',
    "          description: The node is serving.\n          content:\n            application/json:",
    "          description: The node is serving.\n          content:\n            text/plain:",
    /GET \/healthz -> 200: Content-Type "application\/json" is not documented/],
  ['a documented header the node does not send',
    "          description: The node is serving.\n",
    "          description: The node is serving.\n          headers:\n            X-Liaison-Version:\n              required: true\n              schema: { type: string }\n",
    /GET \/healthz -> 200: headers: .*x-liaison-version/],
  ['a stream event whose data does not match (Item.id an integer)',
    "      required: [id, channel, label, marking, markingFr, author, organisation, created, body, contentHash]\n      properties:\n        id: { $ref: '#/components/schemas/ItemId' }",
    "      required: [id, channel, label, marking, markingFr, author, organisation, created, body, contentHash]\n      properties:\n        id: { type: integer }",
    /\/api\/v1\/stream\?channel=cyber-defence -> 200 \(event\): data: \/id must be integer/],
];
for (const [name, from, to, expected] of FRAGMENTS) {
  test(`a deliberately wrong spec fragment is a violation: ${name}`, async () => {
    const { report, status } = await throughProxy(wrong(from, to));
    assert.match(report, expected, report);
    assert.match(report, /^checked [1-9]\d* exchanges, [1-9]\d* violations$/m);
    assert.equal(status, 1, 'check-report.sh fails');
  });
}

test('integers a JavaScript client cannot hold exactly are found, in numbers only', () => {
  assert.deepEqual(unsafeIntegers('{"next":9223372036854775807,"id":9007199254740991}'),
    ['9223372036854775807']);
  assert.deepEqual(unsafeIntegers('{"a":"9223372036854775807","b":-9007199254740993,"c":1e300}'),
    ['-9007199254740993']);
});

test('check-report.sh fails on a report that never closed or checked nothing', () => {
  const file = path.join(tmp, 'partial.txt');
  fs.writeFileSync(file, '');
  assert.equal(spawnSync(path.join(here, 'check-report.sh'), [file]).status, 1);
  fs.writeFileSync(file, 'checked 0 exchanges, 0 violations\n');
  assert.equal(spawnSync(path.join(here, 'check-report.sh'), [file]).status, 1);
  assert.equal(spawnSync(path.join(here, 'check-report.sh'), [path.join(tmp, 'none.txt')]).status, 1);
});
