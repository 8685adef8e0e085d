// views/items.js — a channel's items, newest first, each under its banner.
import { h, fill, timeEl } from '../dom.js';
import { state } from '../state.js';
import { itemBanner } from './banner.js';
import { openDetail } from './detail.js';

const list = () => document.getElementById('items');
const status = () => document.getElementById('list-status');

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
    h('p', { class: 'item-body' }, item.body));
}

/** Show `items` (any order) newest first. */
export function showItems(items, emptyText) {
  state.seen = new Set(items.map((i) => i.id));
  const sorted = [...items].sort((a, b) => b.id - a.id);
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
