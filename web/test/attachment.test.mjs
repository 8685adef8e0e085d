// attachment.test.mjs — the page's rules for attached documents, without a
// browser: sizes from base64, the node's request limit, file names from
// media types, what is previewed inline, and both shapes of the node's
// answers (data with no size; size with no data).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  DEFAULT_BODY_LIMIT, base64Size, base64Length, maxDocumentBytes, requestBytes, formatSize,
  normaliseAttachment, fileName, safeFileName, previewKind, base64ToBytes, mediaTypeOf, refuseFile,
} from '../public/js/attachment.js';
import { normaliseItem } from '../public/js/normalise.js';
import { Api } from '../public/js/api.js';

test('the size of a document is computed from its base64 data when the node gives none', () => {
  for (const n of [0, 1, 2, 3, 4, 5, 100, 1023]) {
    const b64 = Buffer.alloc(n, 7).toString('base64');
    assert.equal(base64Size(b64), n, `${n} bytes`);
    assert.equal(base64Length(n), b64.length);
  }
  assert.equal(base64Size('aGVs\nbG8='), 5, 'line breaks are not data');
  assert.equal(base64Size(null), null);
});

test('an attachment is read in both of the node\'s shapes', () => {
  const now = normaliseAttachment({ mediaType: 'text/plain', data: Buffer.from('hello').toString('base64') });
  assert.deepEqual(now, { mediaType: 'text/plain', size: 5, data: 'aGVsbG8=', name: null });
  const later = normaliseAttachment({ mediaType: 'application/pdf', size: 4096 });
  assert.deepEqual(later, { mediaType: 'application/pdf', size: 4096, data: null, name: null });
  const named = normaliseAttachment({ mediaType: 'application/pdf', size: 1, fileName: 'Rapport d\'étape.pdf' });
  assert.equal(named.name, 'Rapport d\'étape.pdf', 'the file name the node kept');
  assert.equal(normaliseAttachment(undefined), null);
  assert.equal(normaliseItem({ id: 1, body: 'x' }).attachment, null, 'an item without a document has none');
  assert.equal(normaliseItem({ id: 1, attachment: { mediaType: 'image/png', size: 9 } }).attachment.size, 9);
});

test('documents that cannot fit the node\'s request limit are refused in plain words', () => {
  const max = maxDocumentBytes(DEFAULT_BODY_LIMIT);
  assert.ok(max > 700000 && base64Length(max) < DEFAULT_BODY_LIMIT, `max ${max}`);
  assert.equal(refuseFile({ name: 'ok.pdf', size: max }), null);
  const why = refuseFile({ name: 'big.pdf', size: max + 1 });
  assert.match(why, /big\.pdf/);
  assert.match(why, /is 783,361 bytes; .* at most 783,360 bytes/, 'exact bytes when the rounded sizes read alike');
  assert.match(refuseFile({ name: 'big.pdf', size: 2 << 20 }), /is 2 MB; .* at most 765 KB/);
  assert.match(refuseFile({ name: 'e.txt', size: 0 }), /empty/);
  // A post of the largest document and a short message fits the limit.
  const label = { policy: '1.3.26.1.3.1', classification: 'RESTRICTED',
    categories: [{ tagSet: 'Releasable To', type: 'enumeratedPermissive', values: ['NATO', 'JPN', 'KOR', 'AUS', 'NZL'] }] };
  const payload = Api.postBody(label, 'x'.repeat(500), { mediaType: 'application/pdf', data: 'A'.repeat(base64Length(max)) });
  assert.ok(requestBytes(payload) <= DEFAULT_BODY_LIMIT, `${requestBytes(payload)} bytes`);
  assert.equal(requestBytes({ body: 'é' }), 13, 'counted in UTF-8 bytes');
});

test('sizes read as people write them', () => {
  assert.equal(formatSize(1), '1 byte');
  assert.equal(formatSize(24), '24 bytes');
  assert.equal(formatSize(2048), '2 KB');
  assert.equal(formatSize(1536), '1.5 KB');
  assert.equal(formatSize(1 << 20), '1 MB');
  assert.equal(formatSize(null), 'size unknown');
});

test('a downloaded document gets a file name from its media type', () => {
  assert.equal(fileName(42, 'application/pdf'), 'liaison-item-42.pdf');
  assert.equal(fileName(7, 'text/plain; charset=utf-8'), 'liaison-item-7.txt');
  assert.equal(fileName(7, 'image/jpeg'), 'liaison-item-7.jpg');
  assert.equal(fileName(7, 'application/x-weird'), 'liaison-item-7.bin', 'no made-up extension');
  assert.equal(fileName(7, 'audio/ogg'), 'liaison-item-7.ogg');
  assert.equal(fileName('../../x', 'text/plain'), 'liaison-item-x.txt', 'nothing but the id in the name');
});

test('a document keeps the file name it was posted with, never as a path', () => {
  assert.equal(fileName(42, 'application/pdf', 'Étape 2.pdf'), 'Étape 2.pdf');
  assert.equal(fileName(42, 'application/pdf', '../../etc/passwd'), '.._.._etc_passwd');
  assert.equal(fileName(42, 'text/plain', 'a\\b\r\nc.txt'), 'a_b__c.txt');
  assert.equal(fileName(42, 'application/pdf', '..'), 'liaison-item-42.pdf', 'a name that is a path step is dropped');
  assert.equal(safeFileName('é'.repeat(200)).length, 127, 'cut to 255 bytes of UTF-8, whole characters');
  const body = Api.postBody({}, 'x', { mediaType: 'text/plain', data: 'eA==', name: 'notes/v1.txt' });
  assert.deepEqual(body.attachment, { mediaType: 'text/plain', data: 'eA==', fileName: 'notes_v1.txt' });
  assert.equal(Api.postBody({}, 'x', { mediaType: 'text/plain', data: 'eA==' }).attachment.fileName, undefined);
});

test('only plain text and raster images are previewed inline', () => {
  assert.equal(previewKind('text/plain'), 'text');
  assert.equal(previewKind('Text/Plain; charset=utf-8'), 'text');
  assert.equal(previewKind('image/png'), 'image');
  assert.equal(previewKind('image/svg+xml'), null, 'SVG is downloaded, not shown');
  assert.equal(previewKind('text/html'), null, 'HTML is never shown');
  assert.equal(previewKind('application/pdf'), null);
});

test('base64 decodes to the bytes, and a chosen file gets a media type', () => {
  assert.deepEqual([...base64ToBytes('AAEC/w==')], [0, 1, 2, 255]);
  assert.equal(mediaTypeOf('notes.txt', ''), 'text/plain');
  assert.equal(mediaTypeOf('scan.JPEG', ''), 'image/jpeg');
  assert.equal(mediaTypeOf('report.pdf', 'application/pdf'), 'application/pdf');
  assert.equal(mediaTypeOf('blob', ''), 'application/octet-stream');
});
