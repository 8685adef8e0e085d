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
import { banner, itemBanner, itemMarking, nationalMarks, relabel } from './banner.js';
import { t } from '../i18n.js';
import { categoryName } from '../nations.js';
import { releaseSection } from './release.js';
import { correctSection } from './correct.js';

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
  const rows = [row(t('detail.policy'), policyName), row(t('compose.classification'), label?.classification ?? '—')];
  for (const g of label?.categories || []) {
    const named = g.values.map((v) => {
      const cat = state.policy?.categories.find((c) => c.tagSet === g.tagSet && c.name === v);
      const n = cat && categoryName(cat, state.lang);
      return n ? `${v} (${n})` : v;
    });
    rows.push(row(h('span', { translate: 'no' }, g.tagSet), h('span', { translate: 'no' }, named.join(', '))));
  }
  if (label?.privacyMark) rows.push(row(t('detail.privacy'), label.privacyMark));
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
  const close = h('button', { type: 'button', class: 'ghost', onclick: () => dlg.close() }, t('detail.close'));
  const att = item.attachment;
  fill(dlg,
    itemBanner(item),
    nationalMarks(item),
    h('div', { class: 'detail-body' },
      h('h2', { id: 'detail-title' }, t('detail.title', item.author)),
      h('p', { class: 'item-body', translate: 'no' }, item.body),
      h('dl', { class: 'facts' },
        row(t('detail.markingEn'), h('span', { lang: 'en', translate: 'no' }, itemMarking(item, 'en'))),
        row(t('detail.markingFr'), h('span', { lang: 'fr', translate: 'no' }, itemMarking(item, 'fr'))),
        row(t('detail.author'), item.author),
        row(t('detail.organisation'), item.organisation),
        item.origin ? row(t('detail.origin'), h('span', { id: 'detail-origin' }, t('item.from', item.origin.node),
          item.origin.nation ? ` (${item.origin.nation})` : null)) : null,
        item.channel ? row(t('detail.channel'), `#${item.channel}`) : null,
        row(t('detail.created'), timeEl(item.created, state.lang, state.utc), ' ', h('span', { class: 'muted small' }, item.created)),
        row(t('detail.id'), h('code', { class: 'hash' }, String(item.id))),
        item.version ? row(t('detail.version'), h('span', { id: 'detail-version' }, String(item.version))) : null,
        row(t('detail.hash'), h('code', { class: 'hash' }, item.content_hash || t('detail.noHash')),
          h('span', { class: 'muted small' }, ` ${t('detail.hashWhat')}`))),
      att ? h('section', { class: 'doc', id: 'detail-doc', 'aria-labelledby': 'doc-title' },
        h('h3', { id: 'doc-title' }, clipIcon(), ` ${t('doc.title')}`),
        h('dl', { class: 'facts' },
          att.name ? row(t('doc.name'), h('span', { id: 'doc-file-name', translate: 'no' }, att.name)) : null,
          row(t('doc.type'), h('code', {}, att.mediaType)),
          row(t('doc.size'), h('span', { id: 'doc-size' }, att.size !== null ? sizeText(att.size) : '—'))),
        h('div', { id: 'doc-body' }, h('p', { class: 'muted' }, t('doc.loading')))) : null,
      h('h3', {}, t('detail.label')),
      h('dl', { class: 'facts' }, labelRows(item.label)),
      h('details', {}, h('summary', {}, t('detail.json')),
        h('pre', { class: 'json' }, JSON.stringify(item.label, null, 2))),
      releaseSection(item),
      correctSection(item),
      h('div', { class: 'actions' }, close)));
  if (!dlg.open) dlg.showModal();
  close.focus();
  if (att) loadDocument(item, mine);
}

function sizeText(n) {
  return n < 1024 ? formatSize(n) : `${formatSize(n)} (${t('doc.bytes', n.toLocaleString(state.lang))})`;
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
    if (mine === seq) fill(box(), h('p', { class: 'error' }, t('doc.failed', plainWords(e))));
    return;
  }
  if (mine !== seq) return;
  const { mediaType, bytes } = doc;
  document.getElementById('doc-size').textContent = sizeText(bytes.length);
  const name = fileName(item.id, mediaType, item.attachment.name);
  const url = URL.createObjectURL(new Blob([bytes], { type: 'application/octet-stream' }));
  urls.push(url);
  const handling = banner(item.label?.classification, itemMarking(item, 'en'), itemMarking(item, 'fr'), 'inline');
  const parts = [
    h('p', { class: 'doc-actions' },
      h('a', { href: url, download: name, class: 'button', id: 'doc-download',
        'aria-label': t('doc.downloadAs', name, formatSize(bytes.length)) },
      `${t('doc.download')} `, h('span', { class: 'doc-name' }, name))),
    h('div', { class: 'small muted doc-handling' }, t('doc.handle'), ' ', handling, '.'),
  ];
  const kind = previewKind(mediaType);
  if (kind === 'text') {
    const text = new TextDecoder('utf-8').decode(bytes);
    parts.push(h('h4', {}, t('doc.preview')),
      h('pre', { class: 'doc-text', id: 'doc-preview', tabindex: '0', translate: 'no', 'aria-label': t('doc.previewText') },
        text.length > TEXT_PREVIEW_MAX ? text.slice(0, TEXT_PREVIEW_MAX) : text),
      text.length > TEXT_PREVIEW_MAX ? h('p', { class: 'small muted' }, t('doc.partial')) : null);
  } else if (kind === 'image') {
    const img = h('img', { class: 'doc-image', id: 'doc-preview', alt: t('doc.previewImage', mediaType) });
    img.addEventListener('error', () => {
      img.replaceWith(h('p', { class: 'muted' }, t('doc.badImage')));
    });
    img.src = await dataUrl(new Blob([bytes], { type: essence(mediaType) }));
    if (mine !== seq) return;
    parts.push(h('h4', {}, t('doc.preview')), img);
  } else {
    parts.push(h('p', { class: 'muted small' }, t('doc.noPreview', mediaType)));
  }
  fill(box(), parts);
  relabel(box());
}
