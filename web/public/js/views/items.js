// views/items.js — a channel's items, newest first, each under its banner.
import { h, fill, timeEl, clipIcon } from '../dom.js';
import { formatSize } from '../attachment.js';
import { state } from '../state.js';
import { itemBanner } from './banner.js';
import { openDetail } from './detail.js';

const list = () => document.getElementById('items');
const status = () => document.getElementById('list-status');

/** The mark of an attached document: icon, media type and size. */
export function attachmentChip(att, onOpen) {
  const what = `${att.mediaType}${att.size !== null ? `, ${formatSize(att.size)}` : ''}`;
  return h('button', { type: 'button', class: 'attach-chip', onclick: onOpen, title: 'Open the item to download or preview the document',
    'aria-label': `Attached document: ${what}. Open to download or preview.` },
  clipIcon(), h('span', { class: 'attach-type' }, att.mediaType),
  att.size !== null ? [' · ', h('span', { class: 'attach-size' }, formatSize(att.size))] : null);
}

function card(item, fresh) {
  const open = () => openDetail(item);
  return h('li', { class: `item${fresh ? ' fresh' : ''}`, dataset: { id: String(item.id), channel: item.channel || '' } },
    itemBanner(item),
    h('div', { class: 'item-meta' },
      h('span', { class: 'author' }, item.author),
      h('span', { class: 'muted' }, item.organisation),
      item.channel && state.current === null ? h('span', { class: 'chip' }, `#${item.channel}`) : null,
      timeEl(item.created),
      h('button', { type: 'button', class: 'link', onclick: open,
        'aria-label': `Details of item ${item.id}` }, 'Details')),
    h('p', { class: 'item-body' }, item.body),
    item.attachment ? h('div', { class: 'item-attach' }, attachmentChip(item.attachment, open)) : null);
}

/** Show `items` (in the node's order: arrival, oldest first) newest
 *  first. Ids are opaque strings: never compared as numbers. */
export function showItems(items, emptyText) {
  state.seen = new Set(items.map((i) => i.id));
  const sorted = [...items].reverse();
  fill(list(), sorted.map((i) => card(i, false)));
  status().textContent = sorted.length ? `${sorted.length} item${sorted.length === 1 ? '' : 's'} you may see.` : emptyText;
}

/** A live item for the channel on screen: on top, highlighted. */
export function prependItem(item) {
  if (state.seen.has(item.id)) return;
  state.seen.add(item.id);
  list().prepend(card(item, true));
  status().textContent = `New item ${item.id} arrived.`;
}
