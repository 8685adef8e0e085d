// tests/api/openapi-proxy.mjs — a validating proxy on 127.0.0.1 for the
// node's integration tests: it forwards each request to the node unchanged,
// returns the node's answer unchanged (a stream as it comes), and checks the
// exchange against the OpenAPI spec (conformance.mjs).
//
//   node openapi-proxy.mjs --spec docs/api/openapi.yaml \
//        --target http://127.0.0.1:PORT --report FILE [--listen PORT]
//
// Prints "openapi proxy listening on http://127.0.0.1:PORT" once it serves.
// FILE gets one line per violation as it is found ("violation: ..."), notes
// for people ("note: ...", a valid request refused with 400: a constraint
// the spec may lack; not counted) and, on
// SIGTERM or SIGINT, a line counting the stream events checked and the
// closing line "checked N exchanges, V violations".
// A harness passes only on that line with V = 0 (check-report.sh).
// Raw framing tests (malformed HTTP, smuggling, slow clients) must talk to
// the node itself: this proxy parses HTTP strictly and frames it anew.
import fs from 'node:fs';
import http from 'node:http';
import { parseArgs } from 'node:util';
import { makeChecker } from './conformance.mjs';

const { values: opt } = parseArgs({
  options: {
    spec: { type: 'string' },
    target: { type: 'string' },
    report: { type: 'string' },
    listen: { type: 'string', default: '0' },
  },
});
if (!opt.spec || !opt.target || !opt.report) {
  console.error('usage: openapi-proxy.mjs --spec FILE --target URL --report FILE [--listen PORT]');
  process.exit(2);
}
const target = new URL(opt.target);
const checker = await makeChecker(opt.spec);
fs.writeFileSync(opt.report, '');

let exchanges = 0;
let events = 0;
let violations = 0;
function checked(what) {
  try {
    return what();
  } catch (e) {
    return [`the checker failed: ${e.stack || e}`];
  }
}
function record(result) {
  const found = Array.isArray(result) ? result : result.violations;
  for (const note of result.notes || []) {
    fs.appendFileSync(opt.report, `note: ${note.replace(/\s+/g, ' ')}\n`);
  }
  for (const v of found) {
    violations++;
    fs.appendFileSync(opt.report, `violation: ${v.replace(/\s+/g, ' ')}\n`);
  }
}

const HOP_BY_HOP = new Set(['connection', 'keep-alive', 'transfer-encoding', 'upgrade',
  'proxy-connection', 'te', 'trailer']);
function forwardable(headers) {
  const out = {};
  for (const [k, v] of Object.entries(headers)) if (!HOP_BY_HOP.has(k)) out[k] = v;
  return out;
}

// Splits a stream's text into complete events (blank-line separated),
// keeping the unfinished tail.
function takeEvents(state, chunk) {
  state.text += chunk.replace(/\r\n?/g, '\n');
  const parts = state.text.split('\n\n');
  state.text = parts.pop();
  return parts;
}

const limits = { maxHeaderSize: 1 << 20 };
const server = http.createServer({ ...limits, requestTimeout: 0 }, (req, res) => {
  const chunks = [];
  req.on('data', (c) => chunks.push(c));
  req.on('end', () => {
    const reqBody = Buffer.concat(chunks);
    const headers = forwardable(req.headers);
    if (reqBody.length || req.headers['content-length'] !== undefined) {
      headers['content-length'] = String(reqBody.length);
    }
    const ex = { method: req.method, url: req.url, reqHeaders: req.headers, reqBody };
    const up = http.request({
      ...limits, host: target.hostname, port: target.port, method: req.method,
      path: req.url, headers, agent: false,
    }, (upRes) => {
      ex.status = upRes.statusCode;
      ex.resHeaders = upRes.headers;
      const out = forwardable(upRes.headers);
      const streaming = (upRes.headers['content-type'] || '').startsWith('text/event-stream');
      upRes.on('error', () => res.destroy());
      if (streaming) {
        exchanges++;
        record(checked(() => checker.check(ex)));
        res.writeHead(upRes.statusCode, out);
        res.flushHeaders();
        const state = { text: '' };
        upRes.setEncoding('utf8');
        upRes.on('data', (c) => {
          res.write(c);
          for (const event of takeEvents(state, c)) {
            events++;
            record(checked(() => checker.checkEvent(ex, event)));
          }
        });
        upRes.on('end', () => res.end());
        res.on('close', () => upRes.destroy());
        return;
      }
      const body = [];
      upRes.on('data', (c) => body.push(c));
      upRes.on('end', () => {
        ex.resBody = Buffer.concat(body);
        out['content-length'] = String(ex.resBody.length);
        res.writeHead(upRes.statusCode, out);
        res.end(ex.resBody);
        exchanges++;
        record(checked(() => checker.check(ex)));
      });
    });
    up.on('error', (e) => {
      // The node closed without an answer (a test that stops it, a refusal
      // at the HTTP layer): the client sees the same, a closed connection.
      // Once its answer has begun (it may answer 413 before reading the
      // whole body), the answer's own stream decides.
      if (ex.status === undefined) res.destroy(e);
    });
    res.on('close', () => up.destroy());
    up.end(reqBody);
  });
});
server.keepAliveTimeout = 60000;
server.headersTimeout = 0;

function stop() {
  fs.appendFileSync(opt.report, `(of which ${events} stream events were checked one by one)\n`);
  fs.appendFileSync(opt.report, `checked ${exchanges} exchanges, ${violations} violations\n`);
  process.exit(0);
}
process.on('SIGTERM', stop);
process.on('SIGINT', stop);

server.listen(Number(opt.listen), '127.0.0.1', () => {
  console.log(`openapi proxy listening on http://127.0.0.1:${server.address().port}`);
});
