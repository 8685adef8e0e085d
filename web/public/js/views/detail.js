// views/detail.js — one item in full: label, markings in both languages,
// author, organisation, time, content hash, and its attached document
// (download, and a preview of text and images). A modal dialog: Escape
// closes it and focus returns where it was.
//
// The document's bytes come from GET /api/v1/items/{id} (base64 `data`), or
// from GET /api/v1/items/{id}/attachment when the item gives none. They are
// never put into the page as markup: text goes in as a text node, images
// through an <img> (a data: URL, which the node's CSP allows for img-src),
// and the download is a Blob URL typed application/octet-stream, so no
// browser renders it inside the page's origin.
import { h, fill, timeEl, clipIcon } from '../dom.js';
import { state } from '../state.js';
import { plainWords } from '../api.js';
import { base64ToBytes, essence, fileName, formatSize, previewKind } from '../attachment.js';
import { banner, itemBanner, itemMarking, relabel } from './banner.js';

const TEXT_PREVIEW_MAX = 200000;  // characters shown inline; the download has all

let urls = [];           // object URLs of the dialog on screen (revoked on close)
let returnFocus = null;  // where focus goes back when the dialog closes
let seq = 0;             // the dialog on screen (a late load for an older one is dropped)
let wired = false;

function row(term, ...value) {
  return [h('dt', {}, term), h('dd', {}, ...value)];
}

function labelRows(label) {
  const policyName = state.policy && label?.policy === state.policy.id && state.policy.name
    ? `${state.policy.name} (${label.policy})` : label?.policy ?? '—';
  const rows = [row('Policy', policyName), row('Classification', label?.classification ?? '—')];
  for (const g of label?.categories || []) {
    rows.push(row([g.tagSet, ' ', h('span', { class: 'muted ts-type' }, `(${g.type || 'any'})`)], g.values.join(', ')));
  }
  if (label?.privacyMark) rows.push(row('Privacy mark', label.privacyMark));
  return rows;
}

function wire(dlg) {
  if (wired) return;
  wired = true;
  dlg.addEventListener('close', () => {
    seq += 1;
    for (const u of urls) URL.revokeObjectURL(u);
    urls = [];
    if (returnFocus && returnFocus.isConnected) returnFocus.focus();
    returnFocus = null;
  });
}

/** Show `item` in the detail dialog. */
export function openDetail(item) {
  const dlg = document.getElementById('detail');
  wire(dlg);
  if (!dlg.open) returnFocus = document.activeElement;
  for (const u of urls) URL.revokeObjectURL(u);
  urls = [];
  const mine = ++seq;
  const close = h('button', { type: 'button', class: 'ghost', onclick: () => dlg.close() }, 'Close');
  const att = item.attachment;
  fill(dlg,
    itemBanner(item),
    h('div', { class: 'detail-body' },
      h('h2', { id: 'detail-title' }, `Item ${item.id}`),
      h('p', { class: 'item-body' }, item.body),
      h('dl', { class: 'facts' },
        row('Marking (English)', h('span', { lang: 'en' }, itemMarking(item, 'en'))),
        row('Marquage (français)', h('span', { lang: 'fr' }, itemMarking(item, 'fr'))),
        row('Author', item.author),
        row('Organisation', item.organisation),
        item.channel ? row('Channel', `#${item.channel}`) : null,
        row('Created', timeEl(item.created), ' ', h('span', { class: 'muted small' }, item.created)),
        row('Content hash', h('code', { class: 'hash' }, item.content_hash || '(not given by the node)'),
          h('span', { class: 'muted small' }, ' SHA-256 over the label, the message and the document'))),
      att ? h('section', { class: 'doc', id: 'detail-doc', 'aria-labelledby': 'doc-title' },
        h('h3', { id: 'doc-title' }, clipIcon(), ' Attached document'),
        h('dl', { class: 'facts' },
          row('Media type', h('code', {}, att.mediaType)),
          row('Size', h('span', { id: 'doc-size' }, att.size !== null ? sizeText(att.size) : '—'))),
        h('div', { id: 'doc-body' }, h('p', { class: 'muted' }, 'Loading the document…'))) : null,
      h('h3', {}, 'Label'),
      h('dl', { class: 'facts' }, labelRows(item.label)),
      h('details', {}, h('summary', {}, 'Label as JSON'),
        h('pre', { class: 'json' }, JSON.stringify(item.label, null, 2))),
      h('div', { class: 'actions' }, close)));
  if (!dlg.open) dlg.showModal();
  close.focus();
  if (att) loadDocument(item, mine);
}

function sizeText(n) {
  return n < 1024 ? formatSize(n) : `${formatSize(n)} (${n.toLocaleString('en')} bytes)`;
}

async function documentBytes(item) {
  let { mediaType, data } = item.attachment;
  if (data === null) {
    // Lists and the stream may carry no data: the item itself has it.
    const full = await state.api.item(item.id);
    if (full.attachment && full.attachment.data !== null) ({ mediaType, data } = full.attachment);
  }
  if (data !== null) return { mediaType, bytes: base64ToBytes(data) };
  const blob = await state.api.attachment(item.id);
  return { mediaType, bytes: new Uint8Array(await blob.arrayBuffer()) };
}

function dataUrl(blob) {
  return new Promise((resolve, reject) => {
    const r = new FileReader();
    r.onload = () => resolve(r.result);
    r.onerror = () => reject(r.error);
    r.readAsDataURL(blob);
  });
}

async function loadDocument(item, mine) {
  const box = () => document.getElementById('doc-body');
  let doc;
  try {
    doc = await documentBytes(item);
  } catch (e) {
    if (mine === seq) fill(box(), h('p', { class: 'error' }, `The document could not be loaded. ${plainWords(e)}`));
    return;
  }
  if (mine !== seq) return;
  const { mediaType, bytes } = doc;
  document.getElementById('doc-size').textContent = sizeText(bytes.length);
  const name = fileName(item.id, mediaType);
  const url = URL.createObjectURL(new Blob([bytes], { type: 'application/octet-stream' }));
  urls.push(url);
  const handling = banner(item.label?.classification, itemMarking(item, 'en'), itemMarking(item, 'fr'), 'inline');
  const parts = [
    h('p', { class: 'doc-actions' },
      h('a', { href: url, download: name, class: 'button', id: 'doc-download',
        'aria-label': `Download the document as ${name} (${formatSize(bytes.length)})` },
      'Download ', h('span', { class: 'doc-name' }, name))),
    h('div', { class: 'small muted doc-handling' },
      'The downloaded file carries no marking of its own: handle it as ', handling, '.'),
  ];
  const kind = previewKind(mediaType);
  if (kind === 'text') {
    const text = new TextDecoder('utf-8').decode(bytes);
    parts.push(h('h4', {}, 'Preview'),
      h('pre', { class: 'doc-text', id: 'doc-preview', tabindex: '0', 'aria-label': 'Preview of the document (text)' },
        text.length > TEXT_PREVIEW_MAX ? text.slice(0, TEXT_PREVIEW_MAX) : text),
      text.length > TEXT_PREVIEW_MAX ? h('p', { class: 'small muted' }, 'Only the beginning is shown; download the document for all of it.') : null);
  } else if (kind === 'image') {
    const img = h('img', { class: 'doc-image', id: 'doc-preview', alt: `Preview of the attached image (${mediaType})` });
    img.addEventListener('error', () => {
      img.replaceWith(h('p', { class: 'muted' }, 'This image cannot be shown here; download it to open it.'));
    });
    img.src = await dataUrl(new Blob([bytes], { type: essence(mediaType) }));
    if (mine !== seq) return;
    parts.push(h('h4', {}, 'Preview'), img);
  } else {
    parts.push(h('p', { class: 'muted small' }, `No preview for ${mediaType} here: download the document to open it.`));
  }
  fill(box(), parts);
  relabel(box());
}
