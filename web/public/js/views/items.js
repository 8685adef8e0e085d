// views/items.js — a channel's items, newest first, each under its banner.
// Item ids are opaque strings: order comes from the node (oldest first in a
// channel's pages) and the items' times, never from the ids.
import { h, fill, timeEl, clipIcon } from '../dom.js';
import { formatSize } from '../attachment.js';
import { state } from '../state.js';
import { t } from '../i18n.js';
import { itemBanner, nationalMarks } from './banner.js';
import { openDetail } from './detail.js';

const list = () => document.getElementById('items');
const status = () => document.getElementById('list-status');

/** The mark of an attached document: icon, media type and size. */
export function attachmentChip(att, onOpen) {
  const what = `${att.name ? `${att.name}, ` : ''}${att.mediaType}${att.size !== null ? `, ${formatSize(att.size)}` : ''}`;
  return h('button', { type: 'button', class: 'attach-chip', onclick: onOpen, title: t('attach.open'),
    'aria-label': t('attach.label', what) },
  clipIcon(), att.name ? [h('span', { class: 'attach-name', translate: 'no' }, att.name), ' · '] : null,
  h('span', { class: 'attach-type', translate: 'no' }, att.mediaType),
  att.size !== null ? [' · ', h('span', { class: 'attach-size' }, formatSize(att.size))] : null);
}

/** Where an item from a peer came from: "from NATO HQ" (its nation in the
 *  tooltip). */
export function originMark(origin) {
  return h('span', { class: 'origin chip', title: origin.nation ? t('item.fromNation', origin.nation) : null },
    t('item.from', origin.node));
}

/** The item's portion marking in the page's language, or null. */
function portion(item) {
  return (state.lang === 'fr' ? item.portionMarkingFr : item.portionMarking) || null;
}

function card(item, fresh) {
  const open = () => openDetail(item);
  return h('li', { class: `item${fresh ? ' fresh' : ''}`, dataset: { id: String(item.id), channel: item.channel || '' } },
    itemBanner(item),
    nationalMarks(item),
    h('div', { class: 'item-meta' },
      h('span', { class: 'author', translate: 'no' }, item.author),
      h('span', { class: 'muted', translate: 'no' }, item.organisation),
      item.origin ? originMark(item.origin) : null,
      item.channel && state.current === null ? h('span', { class: 'chip', translate: 'no' }, `#${item.channel}`) : null,
      timeEl(item.created, state.lang, state.utc),
      h('button', { type: 'button', class: 'link', onclick: open,
        'aria-label': t('item.detailsOf', item.author) }, t('item.details'))),
    // The portion form leads the text, as on a marked paragraph: "(NR) …".
    h('p', { class: 'item-body', translate: 'no' },
      portion(item) ? [h('span', { class: 'portion' }, portion(item)), ' '] : null, item.body),
    item.attachment ? h('div', { class: 'item-attach' }, attachmentChip(item.attachment, open)) : null);
}

function time(i) {
  const v = Date.parse(i.created);
  return Number.isNaN(v) ? 0 : v;
}

/** Newest first: by time, and for equal times the later in the node's order. */
function newestFirst(items) {
  return items.map((i, n) => [i, n]).sort((a, b) => time(b[0]) - time(a[0]) || b[1] - a[1]).map(([i]) => i);
}

let emptyKey = 'items.empty';

/** Show `items` (in the node's order) newest first. */
export function showItems(items, emptyText = emptyKey) {
  emptyKey = emptyText;
  state.shown = newestFirst(items);
  state.seen = new Set(items.map((i) => String(i.id)));
  redrawItems();
}

/** Draw the listed items again (language or time zone changed). */
export function redrawItems() {
  fill(list(), state.shown.map((i) => card(i, Boolean(i.fresh))));
  status().textContent = state.shown.length ? t('items.count', state.shown.length) : t(emptyKey);
}

/** No items listed, and a status (loading, or why they could not load). */
export function clearItems(text) {
  state.shown = [];
  state.seen = new Set();
  fill(list());
  status().textContent = text;
}

/** A live item for the channel on screen: on top, highlighted. */
export function prependItem(item) {
  const id = String(item.id);
  if (state.seen.has(id)) {
    // A later version of an item on screen (re-released or narrowed,
    // docs/RELEASE.md): it takes the old one's place, under the same id.
    const at = state.shown.findIndex((i) => String(i.id) === id);
    if (at < 0 || !((item.version || 1) > (state.shown[at].version || 1))) return;
    state.shown[at] = { ...item, fresh: true };
    list().querySelector(`li[data-id="${CSS.escape(id)}"]`)?.replaceWith(card(state.shown[at], true));
    status().textContent = t('items.newVersion', item.version);
    return;
  }
  state.seen.add(id);
  const fresh = { ...item, fresh: true };
  state.shown.unshift(fresh);
  list().prepend(card(fresh, true));
  status().textContent = t('items.arrived');
}

/** An item withdrawn from this page: its card goes at once (other readers
 *  lose it when they next load the channel: the node sends no withdrawal
 *  event, docs/RELEASE.md). */
export function removeItem(id, text) {
  const key = String(id);
  state.shown = state.shown.filter((i) => String(i.id) !== key);
  list().querySelector(`li[data-id="${CSS.escape(key)}"]`)?.remove();
  if (text) status().textContent = text;
}
