// views/channels.js — the channel list, with counts of live arrivals, and
// a mark on the channels kept local (`local`: their items go to no peer,
// docs/FEDERATION.md).
import { h, fill } from '../dom.js';
import { state } from '../state.js';
import { t } from '../i18n.js';

export function renderChannels(onPick) {
  const ul = document.getElementById('channels');
  fill(ul, state.channels.map((c) => {
    const n = state.unread.get(c.name) || 0;
    const current = state.current === c.name;
    return h('li', {},
      h('button', { type: 'button', class: `channel${current ? ' current' : ''}`,
        'aria-current': current ? 'page' : undefined, title: c.purpose,
        dataset: { channel: c.name }, onclick: () => onPick(c.name) },
      h('span', { class: 'hash' }, '#'), h('span', { class: 'cname', translate: 'no' }, c.name),
      c.local ? h('span', { class: 'local-mark', title: t('channel.localWhy') },
        t('channel.local')) : null,
      n ? h('span', { class: 'badge', 'aria-label': t('channel.new', n) }, String(n)) : null));
  }));
}
