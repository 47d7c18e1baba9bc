// The sidebar: rooms (`#room-list`) and direct conversations (`#dm-list`). The online list is members.js's.
//
// Every clickable entry is a `button` inside its `li`, so Tab, Enter and Space work without extra code. Clicks are
// handled by delegation in chat.js (`data-room` on the `li`).

import { roomEntries, dmEntries } from '../selectors.js';
import { el, icon, reconcile, setText, show, attr, hue, initial } from './dom.js';

function badgeText(n) {
  return n > 99 ? '99+' : String(n);
}

function createConvEntry(kind) {
  return (entry) =>
    el(
      'li',
      { dataset: { room: entry.key } },
      el(
        'button',
        { type: 'button', class: 'conv-btn' },
        kind === 'dm' ? el('span', { class: 'avatar small', 'aria-hidden': 'true' }) : icon('hash'),
        el('span', { class: 'conv-name' }),
        kind === 'dm' ? null : el('span', { class: 'room-lock', title: 'Needs a password to enter', hidden: true }, icon('lock')),
        el('span', { class: 'badge', hidden: true }),
      ),
    );
}

function updateConvEntry(state, label) {
  return (li, entry) => {
    const btn = li.firstChild;
    const name = btn.querySelector('.conv-name');
    const badge = btn.querySelector('.badge');
    const active = state.active === entry.key;
    setText(name, label(entry));
    if (entry.dm) {
      const avatar = btn.querySelector('.avatar');
      avatar.className = `avatar small c${hue(entry.name)}`;
      setText(avatar, initial(entry.name));
    }
    const lock = btn.querySelector('.room-lock');
    if (lock) show(lock, Boolean(entry.hasPassword));
    setText(badge, badgeText(entry.unread));
    show(badge, entry.unread > 0);
    badge.classList.toggle('mention', entry.mention);
    li.classList.toggle('active', active);
    li.classList.toggle('unread', entry.unread > 0);
    li.classList.toggle('not-joined', entry.joined === false);
    attr(li, 'aria-current', active ? 'true' : null);
    attr(btn, 'aria-current', active ? 'true' : null);
    const parts = [label(entry)];
    if (entry.unread) parts.push(`${entry.unread} unread${entry.mention ? ', mentions you' : ''}`);
    if (entry.hasPassword) parts.push('needs a password');
    if (entry.joined === false) parts.push('not joined');
    attr(btn, 'aria-label', parts.join(', '));
    attr(btn, 'title', entry.topic || null);
  };
}

/** Draws the room and DM lists. */
export function renderConversations(state, roomList, dmList, dmEmpty) {
  reconcile(roomList, roomEntries(state), {
    key: (e) => e.key,
    create: createConvEntry('room'),
    update: updateConvEntry(state, (e) => e.key),
  });
  const dms = dmEntries(state).map((e) => ({ ...e, dm: true }));
  reconcile(dmList, dms, {
    key: (e) => e.key,
    create: createConvEntry('dm'),
    update: updateConvEntry(state, (e) => e.name),
  });
  show(dmEmpty, dms.length === 0);
}
