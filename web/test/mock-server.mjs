// mock-server.mjs — a small stand-in for `liaison serve`, for developing the
// page and testing its own logic when no real node is at hand.
//
// Serves web/public/ at / and a canned API at /api/v1/ that follows
// docs/api/openapi.yaml, with the bundled policy (data/liaison-policy.xml,
// turned into the policy JSON by spif2json.py). Access decisions and
// markings here are a sketch of the engine's (permissive: hold one,
// restrictive: hold all); the required browser tests run against a real
// node whenever LIAISON_URL is set.
//
// Usage: node test/mock-server.mjs [PORT]   (prints "listening URL" and
// writes the demo credentials to $MOCK_CREDENTIALS if set)
import http from 'node:http';
import fs from 'node:fs';
import path from 'node:path';
import crypto from 'node:crypto';
import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { markLabel } from '../public/js/marking.js';

const here = path.dirname(fileURLToPath(import.meta.url));
const publicDir = path.resolve(here, '../public');
const spif = path.resolve(here, '../../data/liaison-policy.xml');

const MIME = {
  '.html': 'text/html; charset=utf-8', '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8', '.svg': 'image/svg+xml', '.ico': 'image/x-icon',
  '.json': 'application/json',
};

export function loadPolicy() {
  return JSON.parse(execFileSync('python3', [path.join(here, 'spif2json.py'), spif], { encoding: 'utf8' }));
}

const rel = (nations) => [
  { tagSet: 'Context', type: 'permissive', values: ['NATO', 'Releasable'] },
  { tagSet: 'Releasable To', type: 'enumeratedPermissive', values: ['NATO', ...nations] },
];
const natoOnly = [{ tagSet: 'Context', type: 'permissive', values: ['NATO'] }];

const USERS = [
  { user: 'Ingrid Vestergaard', organisation: 'NATO International Staff', nation: 'NATO',
    token: 'lsn_mock_nato', roles: ['member', 'release_authority'],
    clearance: { policy: '1.3.26.1.3.1', classifications: ['UNCLASSIFIED', 'RESTRICTED', 'CONFIDENTIAL', 'SECRET', 'TOP SECRET'],
      categories: [{ tagSet: 'Context', type: 'permissive', values: ['NATO', 'Releasable'] },
        { tagSet: 'Releasable To', type: 'enumeratedPermissive', values: ['NATO'] },
        { tagSet: 'Additional Sensitivity', type: 'restrictive', values: ['ATOMAL'] }] } },
  { user: 'Sato Haruki', organisation: 'Mission of Japan to NATO', nation: 'JPN',
    token: 'lsn_mock_jpn', roles: ['member'],
    clearance: { policy: '1.3.26.1.3.1', classifications: ['UNCLASSIFIED', 'RESTRICTED', 'CONFIDENTIAL', 'SECRET'],
      categories: [{ tagSet: 'Context', type: 'permissive', values: ['Releasable'] },
        { tagSet: 'Releasable To', type: 'enumeratedPermissive', values: ['JPN'] }] } },
  { user: 'Kim Min-jun', organisation: 'Mission of the Republic of Korea', nation: 'KOR',
    token: 'lsn_mock_kor', roles: ['member'],
    clearance: { policy: '1.3.26.1.3.1', classifications: ['UNCLASSIFIED', 'RESTRICTED', 'CONFIDENTIAL', 'SECRET'],
      categories: [{ tagSet: 'Context', type: 'permissive', values: ['Releasable'] },
        { tagSet: 'Releasable To', type: 'enumeratedPermissive', values: ['KOR'] }] } },
];

const BODY_LIMIT = 1 << 20;

const CHANNELS = [
  ['cyber-defence', 'Cyber defence: threat information, incident response, exercises'],
  ['maritime-security', 'Maritime security and situational awareness'],
  ['space', 'Space: resilience, situational awareness'],
  ['disinformation', 'Countering disinformation; strategic communications'],
  ['emerging-technologies', 'Emerging and disruptive technologies'],
  ['arms-control', 'Arms control, disarmament and non-proliferation'],
  ['emergency-management', 'Emergency management and joint evacuation of nationals'],
  ['political-consultations', 'Political consultations'],
].map(([name, purpose]) => ({ name, purpose }));

function family(t) {
  if (t === 'permissive' || t === 'enumeratedPermissive') return 'P';
  if (t === 'restrictive' || t === 'enumeratedRestrictive') return 'R';
  return 'I';
}

/** A sketch of the access decision (label vs clearance). */
export function canRead(label, clearance) {
  if (!clearance.classifications.includes(label.classification)) return false;
  for (const g of label.categories || []) {
    const held = clearance.categories.find((c) => c.tagSet === g.tagSet && family(c.type) === family(g.type));
    const hv = held ? held.values : [];
    if (family(g.type) === 'R' && !g.values.every((v) => hv.includes(v))) return false;
    if (family(g.type) === 'P' && !g.values.some((v) => hv.includes(v))) return false;
  }
  return true;
}

function validate(policy, label) {
  if (!label || typeof label !== 'object' || Array.isArray(label)) return 'the label must be a JSON object';
  const cls = policy.classifications.find((c) => c.name === label.classification);
  if (!cls) return `unknown classification '${label.classification}'`;
  const cats = [];
  for (const g of label.categories || []) {
    for (const v of g.values || []) {
      const c = policy.categories.find((x) => x.tagSet === g.tagSet && x.name === v);
      if (!c) return `unknown category '${v}' in tag set '${g.tagSet}'`;
      if ((c.excludedBy || []).includes(cls.name)) return `category ${v} (${g.tagSet}) is excluded at classification ${cls.name}`;
      cats.push(c);
    }
  }
  for (const c of cats) {
    for (const r of c.requires || []) {
      const ok = r.lacv != null
        ? cats.some((x) => x.tagSet === r.tagSet && x.lacv === r.lacv)
        : cats.some((x) => x.tagSet === r.tagSet && x !== c);
      if (!ok) return `category ${c.name} (${c.tagSet}) requires a category of tag set ${r.tagSet}`;
    }
  }
  return null;
}

export function startMock({ port = 0, credentialsFile } = {}) {
  const policy = loadPolicy();
  const items = [];
  const subscribers = new Set();
  // Ids are random UUIDs and cursors opaque, as the node's.
  const cursorOf = (it) => Buffer.from(`c:${it.id}`).toString('base64url');
  const byToken = new Map(USERS.map((u) => [u.token, u]));

  // Items keep their document's bytes aside: lists and the stream give
  // {mediaType, size}, GET /items/{id} adds the base64 data, and
  // GET /items/{id}/attachment gives the bytes (the node's later contract).
  const docs = new Map();
  const add = (channel, author, label, body, created, attachment) => {
    const item = {
      id: crypto.randomUUID(), channel, label, author: author.user, organisation: author.organisation,
      created: created || new Date().toISOString(), body,
      marking: markLabel(policy, label, null), marking_fr: markLabel(policy, label, 'fr'),
    };
    const hash = crypto.createHash('sha256').update(JSON.stringify(label)).update('\0').update(body);
    if (attachment) {
      docs.set(item.id, attachment);
      item.attachment = { mediaType: attachment.mediaType, size: attachment.bytes.length };
      if (attachment.fileName) item.attachment.fileName = attachment.fileName;
      hash.update('\0').update(attachment.bytes);
    }
    item.content_hash = hash.digest('hex');
    items.push(item);
    for (const s of subscribers) {
      if (canRead(item.label, s.user.clearance) && (!s.channel || s.channel === item.channel)) sendEvent(s.res, item);
    }
    return item;
  };
  const full = (it) => (docs.has(it.id)
    ? { ...it, attachment: { ...it.attachment, data: docs.get(it.id).bytes.toString('base64') } } : it);
  const [nato, jpn] = USERS;
  const t0 = Date.parse('2026-11-23T08:00:00Z');
  const seed = [
    ['cyber-defence', nato, 'UNCLASSIFIED', natoOnly, 'Weekly cyber threat bulletin: phishing campaign against defence ministries.'],
    ['cyber-defence', nato, 'RESTRICTED', rel(['JPN', 'KOR', 'AUS', 'NZL']), 'AP4 cyber coordination call moved to Thursday 09:00 Tokyo time.'],
    ['cyber-defence', jpn, 'RESTRICTED', rel(['JPN']), 'Japan CSIRT liaison contact details updated for the Locked Shields follow-up.'],
    ['cyber-defence', nato, 'SECRET', natoOnly, 'Assessment of intrusion set targeting alliance logistics networks.'],
    ['cyber-defence', nato, 'CONFIDENTIAL', rel(['JPN']), 'Indicators of compromise shared under the ITPP cyber area.'],
    ['maritime-security', nato, 'UNCLASSIFIED', natoOnly, 'Port call schedule for the standing maritime group.'],
    ['maritime-security', nato, 'SECRET', rel(['AUS', 'JPN', 'KOR', 'NZL']), 'Maritime domain awareness picture, East China Sea, week 47.'],
    ['cyber-defence', nato, 'TOP SECRET', natoOnly, 'Strategic assessment: alliance cyber posture.'],
  ];
  seed.forEach(([ch, who, cls, cats, body], i) =>
    add(ch, who, { policy: policy.id, classification: cls, categories: cats }, body, new Date(t0 + i * 600000).toISOString()));
  // An item from a peer (federation, docs/FEDERATION.md): the node names its
  // author `peer:NAME`, its organisation the origin node, and adds
  // `origin {node, nation}`.
  const fromPeer = add('maritime-security', { user: 'peer:NATO HQ', organisation: 'NATO HQ' },
    { policy: policy.id, classification: 'RESTRICTED', categories: rel(['JPN']) },
    'Relayed from Brussels: allied maritime exercise notice, week 48.', new Date(t0 + seed.length * 600000).toISOString());
  fromPeer.origin = { node: 'NATO HQ', nation: 'NATO' };

  function sendEvent(res, item) {
    res.write(`id: ${item.id}\nevent: item\ndata: ${JSON.stringify(item)}\n\n`);
  }

  const json = (res, status, obj, extra = {}) => {
    res.writeHead(status, { 'Content-Type': 'application/json', 'Cache-Control': 'no-store',
      'X-Content-Type-Options': 'nosniff', ...extra });
    res.end(JSON.stringify(obj));
  };
  const fail = (res, status, code, message, extra) => json(res, status, { error: code, message }, extra);

  const server = http.createServer(async (req, res) => {
    const url = new URL(req.url, 'http://x');
    const p = url.pathname;
    if (!p.startsWith('/api/')) {
      if (req.method !== 'GET' && req.method !== 'HEAD') return fail(res, 405, 'method_not_allowed', 'Only GET here.');
      const file = path.resolve(publicDir, '.' + (p === '/' ? '/index.html' : decodeURIComponent(p)));
      if (!file.startsWith(publicDir + path.sep) || !fs.existsSync(file) || !fs.statSync(file).isFile()) {
        return fail(res, 404, 'not_found', 'No such file.');
      }
      res.writeHead(200, { 'Content-Type': MIME[path.extname(file)] || 'application/octet-stream',
        'X-Content-Type-Options': 'nosniff', 'Cache-Control': 'no-cache',
        'Content-Security-Policy': "default-src 'self'; img-src 'self' data:; frame-ancestors 'none'; base-uri 'none'; form-action 'self'" });
      return res.end(fs.readFileSync(file));
    }
    const auth = req.headers.authorization || '';
    const user = auth.startsWith('Bearer ') ? byToken.get(auth.slice(7)) : undefined;
    if (!user) return fail(res, 401, 'unauthorized', 'A valid bearer token is required.', { 'WWW-Authenticate': 'Bearer realm="liaison"' });
    const visible = (it) => canRead(it.label, user.clearance);
    let m;
    if (req.method === 'GET' && p === '/api/v1/me') {
      return json(res, 200, { user: user.user, organisation: user.organisation, nation: user.nation, roles: user.roles,
        clearance: user.clearance, clearance_marking: clearanceMarking(user), bodyLimit: BODY_LIMIT });
    }
    if (req.method === 'GET' && p === '/api/v1/policy') return json(res, 200, policy);
    if (req.method === 'GET' && p === '/api/v1/channels') return json(res, 200, { channels: CHANNELS });
    if ((m = p.match(/^\/api\/v1\/channels\/([^/]+)\/items$/))) {
      const ch = decodeURIComponent(m[1]);
      if (!CHANNELS.some((c) => c.name === ch)) return fail(res, 404, 'not_found', 'No such channel.');
      if (req.method === 'GET') {
        const cursor = url.searchParams.get('after');
        const limit = Math.min(Number(url.searchParams.get('limit') || 100), 1000);
        let from = 0;
        if (cursor) {
          from = items.findIndex((i) => cursorOf(i) === cursor) + 1;
          if (from === 0) return fail(res, 400, 'bad_request', 'The cursor (after) is not valid here.');
        }
        const page = items.slice(from).filter((i) => i.channel === ch && visible(i)).slice(0, limit);
        const next = page.length ? cursorOf(page[page.length - 1]) : cursor;
        return json(res, 200, { items: page, count: page.length, next });
      }
      if (req.method === 'POST') {
        if (!(req.headers['content-type'] || '').startsWith('application/json')) return fail(res, 415, 'unsupported_media_type', 'Send application/json.');
        let body;
        try { body = JSON.parse(await readBody(req)); } catch (e) {
          if (e.message === 'too large') return fail(res, 413, 'payload_too_large', 'The body is too large.');
          return fail(res, 400, 'malformed_json', 'The body is not JSON.');
        }
        if (typeof body?.body !== 'string') return fail(res, 400, 'bad_request', 'The item needs a "body" string.');
        const why = validate(policy, body.label);
        if (why) return fail(res, 422, 'invalid', `Invalid label: ${why}.`);
        if (!canRead(body.label, user.clearance)) return fail(res, 403, 'forbidden', 'The label is beyond your own clearance.');
        let attachment = null;
        if (body.attachment !== undefined && body.attachment !== null) {
          const a = body.attachment;
          if (typeof a?.mediaType !== 'string' || !a.mediaType || typeof a.data !== 'string') {
            return fail(res, 400, 'bad_request', 'An attachment is {"mediaType": TYPE, "data": BASE64}.');
          }
          if (!/^[A-Za-z0-9+/\s]*={0,2}$/.test(a.data)) return fail(res, 400, 'bad_request', 'The attachment data is not base64.');
          // eslint-disable-next-line no-control-regex
          if (a.fileName !== undefined && (typeof a.fileName !== 'string' || !a.fileName || /[/\\\u0000-\u001f\u007f-\u009f]/.test(a.fileName) || a.fileName === '.' || a.fileName === '..')) {
            return fail(res, 400, 'bad_request', 'An attachment\'s file name has no path and no control character.');
          }
          attachment = { mediaType: a.mediaType, bytes: Buffer.from(a.data, 'base64'), fileName: a.fileName };
        }
        const it = add(ch, user, body.label, body.body, undefined, attachment);
        return json(res, 201, { id: it.id, marking: it.marking });
      }
      return fail(res, 405, 'method_not_allowed', 'GET or POST.');
    }
    if (req.method === 'GET' && (m = p.match(/^\/api\/v1\/items\/([0-9a-f-]{36})$/))) {
      const it = items.find((i) => i.id === m[1]);
      if (!it || !visible(it)) return fail(res, 404, 'not_found', 'No such item.');
      return json(res, 200, full(it));
    }
    if (req.method === 'GET' && (m = p.match(/^\/api\/v1\/items\/([0-9a-f-]{36})\/attachment$/))) {
      const it = items.find((i) => i.id === m[1]);
      if (!it || !visible(it) || !docs.has(it.id)) return fail(res, 404, 'not_found', 'No such item or document.');
      const d = docs.get(it.id);
      res.writeHead(200, { 'Content-Type': d.mediaType, 'Content-Length': d.bytes.length, 'Cache-Control': 'no-store',
        'X-Content-Type-Options': 'nosniff', 'Content-Disposition': `attachment; filename="item-${it.id}"` });
      return res.end(d.bytes);
    }
    if (req.method === 'GET' && p === '/api/v1/search') {
      const q = (url.searchParams.get('q') || '').trim().toLowerCase();
      if (!q) return fail(res, 400, 'bad_request', 'The query parameter "q" is required.');
      const words = q.split(/\s+/);
      return json(res, 200, { items: items.filter((i) => visible(i) && words.every((w) => i.body.toLowerCase().includes(w))) });
    }
    if (req.method === 'POST' && p === '/api/v1/labels/mark') {
      let body;
      try { body = JSON.parse(await readBody(req)); } catch { return fail(res, 400, 'malformed_json', 'The body is not JSON.'); }
      const why = validate(policy, body.label);
      if (why) return fail(res, 422, 'invalid', `Invalid label: ${why}.`);
      return json(res, 200, { marking: markLabel(policy, body.label, null), marking_fr: markLabel(policy, body.label, 'fr') });
    }
    if (req.method === 'GET' && p === '/api/v1/stream') {
      res.writeHead(200, { 'Content-Type': 'text/event-stream', 'Cache-Control': 'no-store' });
      res.write('retry: 1000\n\n');
      const s = { res, user, channel: url.searchParams.get('channel') };
      const last = req.headers['last-event-id'];
      const at = last ? items.findIndex((i) => i.id === last && visible(i)) : -1;
      if (last && at < 0) { res.end(); return; }
      if (last) for (const it of items.slice(at + 1)) if (visible(it)) sendEvent(res, it);
      subscribers.add(s);
      const beat = setInterval(() => res.write(':\n\n'), 15000);
      req.on('close', () => { clearInterval(beat); subscribers.delete(s); });
      return undefined;
    }
    return fail(res, 404, 'not_found', 'No such route.');
  });

  return new Promise((resolve) => {
    server.listen(port, '127.0.0.1', () => {
      const url = `http://127.0.0.1:${server.address().port}`;
      const creds = USERS.map((u) => ({ user: u.user, organisation: u.organisation, clearance: clearanceMarking(u), token: u.token }));
      if (credentialsFile) fs.writeFileSync(credentialsFile, JSON.stringify(creds, null, 2));
      resolve({ url, credentials: creds, close: () => { for (const s of subscribers) s.res.end(); server.closeAllConnections?.(); server.close(); } });
    });
  });
}

function clearanceMarking(u) {
  const c = u.clearance;
  const rel = c.categories.find((g) => g.tagSet === 'Releasable To');
  const top = c.classifications[c.classifications.length - 1];
  return `${c.classifications.includes('TOP SECRET') ? 'COSMIC' : 'NATO'} ${top}` +
    (rel && !rel.values.includes('NATO') ? ` Releasable to ${rel.values.join(', ')}` : '');
}

function readBody(req) {
  return new Promise((resolve, reject) => {
    const chunks = [];
    let n = 0;
    req.on('data', (c) => { n += c.length; if (n > BODY_LIMIT) { reject(new Error('too large')); req.resume(); } else chunks.push(c); });
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const m = await startMock({ port: Number(process.argv[2] || 8471), credentialsFile: process.env.MOCK_CREDENTIALS });
  console.log(`listening ${m.url}`);
  for (const c of m.credentials) console.log(`  ${c.user} (${c.organisation}): ${c.token}`);
}
