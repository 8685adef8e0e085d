// attachment.js — an item's attached document: sizes, names, what may be
// previewed, and the node's request limit. Pure functions (no DOM), so
// node's test runner checks them too (test/attachment.test.mjs).
//
// The node takes a document as `"attachment": {"mediaType": T, "data":
// BASE64}` inside the JSON post, and the whole request must fit its
// `body-limit` (default 1 MiB, docs/SERVER.md). Items carry
// `attachment: {mediaType, size?, data?}`: the first node build sends the
// data everywhere and no size; the later contract sends {mediaType, size}
// in lists and the stream, the data only in GET /api/v1/items/{id}, and the
// raw bytes at GET /api/v1/items/{id}/attachment. Both work here.

/** The node's default request limit, when it does not state its own. */
import { t } from './i18n.js';

export const DEFAULT_BODY_LIMIT = 1 << 20;

/** Room kept for the label, the message and the JSON around the document
 *  when judging a file before the message is written. */
export const POST_OVERHEAD = 4096;

/** Bytes that `b64` (standard base64) decodes to, or null if it is not a string. */
export function base64Size(b64) {
  if (typeof b64 !== 'string') return null;
  const s = b64.replace(/[\s]/g, '');
  if (s.length === 0) return 0;
  const pad = s.endsWith('==') ? 2 : s.endsWith('=') ? 1 : 0;
  return Math.floor((s.length * 3) / 4) - pad;
}

/** Length of the base64 text of `n` bytes. */
export function base64Length(n) {
  return 4 * Math.ceil(n / 3);
}

/** The largest document (bytes) that fits a post under `limit` bytes. */
export function maxDocumentBytes(limit = DEFAULT_BODY_LIMIT) {
  return Math.max(0, Math.floor((limit - POST_OVERHEAD) / 4) * 3);
}

/** Bytes of the JSON request the page sends (UTF-8). */
export function requestBytes(payload) {
  return new TextEncoder().encode(JSON.stringify(payload)).length;
}

/** "24 bytes", "12.3 KB", "1.2 MB" (1 KB = 1024 bytes). */
export function formatSize(n) {
  if (typeof n !== 'number' || !Number.isFinite(n) || n < 0) return t('size.unknown');
  if (n < 1024) return t('doc.bytes', n);
  const units = t('size.units');
  let v = n / 1024;
  let u = 0;
  while (v >= 1024 && u < units.length - 1) { v /= 1024; u += 1; }
  return `${v >= 100 ? Math.round(v) : v.toFixed(1).replace(/\.0$/, '')} ${units[u]}`;
}

/** An item's attachment in one shape: {mediaType, size, data, name}
 *  (size, data and name null when the node did not send them), or null. */
export function normaliseAttachment(a) {
  if (!a || typeof a !== 'object') return null;
  const mediaType = String(a.mediaType ?? a.media_type ?? 'application/octet-stream');
  const data = typeof a.data === 'string' ? a.data : null;
  const size = Number.isFinite(a.size) ? a.size : base64Size(data);
  return { mediaType, size, data, name: safeFileName(a.fileName) };
}

/** A file name as the node keeps it: 1 to 255 bytes of UTF-8, never "." or
 *  "..", with '_' for every '/', '\\' and control character (the node
 *  refuses those: a name is never a path, nor a line break in a header).
 *  null when nothing is left. */
export function safeFileName(name) {
  if (typeof name !== 'string') return null;
  // eslint-disable-next-line no-control-regex
  let s = name.replace(/[/\\\u0000-\u001f\u007f-\u009f\u2028\u2029]/g, '_');
  const enc = new TextEncoder();
  while (enc.encode(s).length > 255) s = Array.from(s).slice(0, -1).join('');
  return s === '' || s === '.' || s === '..' ? null : s;
}

const EXT = {
  'application/pdf': 'pdf', 'text/plain': 'txt', 'text/csv': 'csv', 'text/markdown': 'md',
  'text/html': 'html', 'text/xml': 'xml', 'application/xml': 'xml', 'application/json': 'json',
  'image/png': 'png', 'image/jpeg': 'jpg', 'image/gif': 'gif', 'image/webp': 'webp',
  'image/svg+xml': 'svg', 'image/bmp': 'bmp', 'image/tiff': 'tif',
  'application/zip': 'zip', 'application/rtf': 'rtf', 'application/msword': 'doc',
  'application/vnd.openxmlformats-officedocument.wordprocessingml.document': 'docx',
  'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet': 'xlsx',
  'application/vnd.openxmlformats-officedocument.presentationml.presentation': 'pptx',
  'application/vnd.ms-excel': 'xls', 'application/vnd.ms-powerpoint': 'ppt',
  'application/vnd.oasis.opendocument.text': 'odt',
  'application/vnd.oasis.opendocument.spreadsheet': 'ods',
  'application/vnd.oasis.opendocument.presentation': 'odp',
  'application/octet-stream': 'bin',
};

/** The bare media type, lower case, without parameters ("text/plain"). */
export function essence(mediaType) {
  return String(mediaType || '').split(';')[0].trim().toLowerCase();
}

/** A file name for an item's document: the name it was posted with when
 *  the node has one, else "liaison-item-42.pdf", which says where it came
 *  from (items posted before names were kept). */
export function fileName(itemId, mediaType, name = null) {
  const kept = safeFileName(name);
  if (kept) return kept;
  const t = essence(mediaType);
  let ext = EXT[t];
  if (!ext) {
    const sub = t.split('/')[1] || '';
    ext = /^[a-z0-9]{1,8}$/.test(sub) ? sub : 'bin';
  }
  const id = String(itemId).replace(/[^0-9A-Za-z-]/g, '');
  return `liaison-item-${id || 'document'}.${ext}`;
}

// Raster images a browser decodes in an <img>: never scriptable there.
const IMAGES = new Set(['image/png', 'image/jpeg', 'image/gif', 'image/webp', 'image/bmp', 'image/avif']);
const TEXTS = new Set(['text/plain', 'text/csv', 'text/markdown']);

/** How the detail previews a document: 'image', 'text', or null (download only). */
export function previewKind(mediaType) {
  const t = essence(mediaType);
  if (IMAGES.has(t)) return 'image';
  if (TEXTS.has(t)) return 'text';
  return null;
}

/** The bytes of standard base64 text. */
export function base64ToBytes(b64) {
  const bin = atob(String(b64).replace(/\s/g, ''));
  const out = new Uint8Array(bin.length);
  for (let i = 0; i < bin.length; i += 1) out[i] = bin.charCodeAt(i);
  return out;
}

/** A media type for a chosen file: the browser's, else by extension, else
 *  application/octet-stream. */
export function mediaTypeOf(name, browserType) {
  if (browserType && /^[\w.+-]+\/[\w.+-]+/.test(browserType)) return browserType;
  const ext = String(name || '').toLowerCase().split('.').pop();
  for (const [t, e] of Object.entries(EXT)) if (e === ext) return t;
  if (ext === 'jpeg') return 'image/jpeg';
  if (ext === 'text' || ext === 'log') return 'text/plain';
  return 'application/octet-stream';
}

/** Why a chosen file cannot be attached (a sentence), or null. */
export function refuseFile(file, limit = DEFAULT_BODY_LIMIT) {
  const max = maxDocumentBytes(limit);
  if (file.size === 0) return t('file.empty', file.name);
  if (file.size > max) {
    let is = formatSize(file.size);
    let most = formatSize(max);
    if (is === most) {  // rounded alike: say the bytes
      is = t('doc.bytes', file.size.toLocaleString('en'));
      most = t('doc.bytes', max.toLocaleString('en'));
    }
    return t('file.tooBig', file.name, is, most, formatSize(limit));
  }
  return null;
}
