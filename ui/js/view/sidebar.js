// The sidebar (rooms `#room-list`, direct conversations `#dm-list`) and the online list (`#online-list`).
//
// Every clickable entry is a `button` inside its `li`, so Tab, Enter and Space work without extra code. Clicks are
// handled by delegation in main.js (`data-room` / `data-nick` on the `li`).

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

/** Draws who is online in the conversation on screen; the user's own entry is not a button. */
export function renderOnline(state, list, heading) {
  const c = state.active ? state.convs.get(state.active) : null;
  const members = c ? c.members : [];
  setText(heading, members.length ? `Online — ${members.length}` : 'Online');
  const meLower = state.me.toLowerCase();
  const raised = new Set((c && state.hands.get(c.key) || []).map((nick) => nick.toLowerCase()));
  reconcile(list, members, {
    key: (nick) => `${nick.toLowerCase() === meLower ? 'me:' : ''}${raised.has(nick.toLowerCase()) ? 'hand:' : ''}${nick}`,
    create: (nick) => {
      const mine = nick.toLowerCase() === meLower;
      const avatar = el('span', { class: `avatar small c${hue(nick)}`, 'aria-hidden': 'true', text: initial(nick) });
      const name = el('span', { class: 'member-name', text: nick });
      const hand = raised.has(nick.toLowerCase())
        ? el('span', { class: 'hand', title: 'Hand raised', text: 'hand up' })
        : null;
      const parts = [avatar, name, hand].filter(Boolean);
      const inner = mine
        ? el('span', { class: 'member self' }, ...parts, el('span', { class: 'you', text: '(you)' }))
        : el('button', { type: 'button', class: 'member', title: `Message ${nick} directly`, 'aria-label': `${nick}: send a direct message` }, ...parts);
      return el('li', { dataset: { nick } }, inner);
    },
    update: () => {},
  });
}
