// views/detail.js — one item in full: label, markings in both languages,
// author, organisation, time and content hash (a modal dialog: Escape
// closes it and focus returns where it was).
import { h, fill, timeEl } from '../dom.js';
import { itemBanner, itemMarking } from './banner.js';

function row(term, ...value) {
  return [h('dt', {}, term), h('dd', {}, ...value)];
}

function labelRows(label) {
  const rows = [row('Policy', label?.policy ?? '—'), row('Classification', label?.classification ?? '—')];
  for (const g of label?.categories || []) {
    rows.push(row(`${g.tagSet} (${g.type || 'any'})`, g.values.join(', ')));
  }
  if (label?.privacyMark) rows.push(row('Privacy mark', label.privacyMark));
  return rows;
}

export function openDetail(item) {
  const dlg = document.getElementById('detail');
  const close = h('button', { type: 'button', class: 'ghost', onclick: () => dlg.close() }, 'Close');
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
        item.channel ? row('Channel', item.channel) : null,
        row('Created', timeEl(item.created), ' ', h('span', { class: 'muted small' }, item.created)),
        row('Content hash', h('code', { class: 'hash' }, item.content_hash || '(not given by the node)')),
        item.document ? row('Document', `${item.document.media_type || ''} ${item.document.size ?? ''} bytes`) : null),
      h('h3', {}, 'Label'),
      h('dl', { class: 'facts' }, labelRows(item.label)),
      h('details', {}, h('summary', {}, 'Label as JSON'),
        h('pre', { class: 'json' }, JSON.stringify(item.label, null, 2))),
      h('div', { class: 'actions' }, close)));
  dlg.showModal();
  close.focus();
}
