// Read-only views of the state for rendering: what the sidebar lists, what the message list shows, who is typing.
//
// Pure functions of the state (see state.js); no DOM.

import { isDm, roomKey } from './names.js';
import { atNewest, newestSeq } from './conversation.js';

/** Name to show for a conversation: `lobby`, or the other person's nickname for `@bob`. */
export function displayName(state, key) {
  if (!isDm(key)) return key;
  return state.dmNames.get(key) || key.slice(1);
}

/** Sum of unread counts, for the window title and the tray. */
export function totalUnread(state) {
  let total = 0;
  for (const c of state.convs.values()) total += c.unread;
  return total;
}

/** Who is typing in `room` now (nicknames, oldest first). */
export function typingNames(state, room, now = Date.now()) {
  const c = state.convs.get(roomKey(room));
  if (!c) return [];
  return [...c.typing.values()].filter((t) => t.until > now).map((t) => t.nick);
}

/**
 * What the message list shows, oldest first: messages, the notices that came after them, then pending sends.
 * Each item has a stable `key`.
 */
export function timeline(c) {
  const items = [];
  const notices = [...c.notices].sort((a, b) => a.afterSeq - b.afterSeq || a.id - b.id);
  let n = 0;
  const oldest = c.msgs.length ? c.msgs[0].seq : Infinity;
  // Notices that predate the oldest message held belong to messages not loaded: leave them out while older exist.
  while (n < notices.length && notices[n].afterSeq < oldest && c.hasMore && c.msgs.length) n++;
  for (const m of c.msgs) {
    while (n < notices.length && notices[n].afterSeq < m.seq) items.push({ kind: 'notice', key: `n:${notices[n].id}`, notice: notices[n++] });
    items.push({ kind: 'message', key: `m:${m.seq}`, msg: m });
  }
  // Likewise notices that follow messages after the window: they show when the window reaches them.
  const newest = atNewest(c) ? Infinity : newestSeq(c);
  while (n < notices.length && notices[n].afterSeq <= newest) items.push({ kind: 'notice', key: `n:${notices[n].id}`, notice: notices[n++] });
  for (const p of c.pending.values()) items.push({ kind: 'pending', key: `p:${p.client_id}`, msg: p });
  return items;
}

/** Rooms for the sidebar: every listed room plus any joined one, sorted, lobby first. */
export function roomEntries(state) {
  const names = new Set(state.listing.keys());
  for (const c of state.convs.values()) if (!c.dm) names.add(c.key);
  return [...names].sort((a, b) => (a === 'lobby' ? -1 : b === 'lobby' ? 1 : a.localeCompare(b))).map((name) => {
    const c = state.convs.get(name);
    const listed = state.listing.get(name);
    return {
      key: name,
      joined: Boolean(c && c.joined),
      unread: c ? c.unread : 0,
      mention: Boolean(c && c.mention),
      topic: (c && c.topic) || (listed && listed.topic) || '',
      hasPassword: Boolean(listed && listed.hasPassword),
    };
  });
}

/** Direct conversations for the sidebar, sorted by the other person's name. */
export function dmEntries(state) {
  return [...state.convs.values()]
    .filter((c) => c.dm)
    .map((c) => ({ key: c.key, name: displayName(state, c.key), unread: c.unread, mention: c.mention }))
    .sort((a, b) => a.name.toLowerCase().localeCompare(b.name.toLowerCase()));
}

/** Conversations to reopen next time (persisted by main.js). */
export function openConversations(state) {
  return [...state.convs.values()].filter((c) => c.joined || c.joining || (c.dm && c.msgs.length)).map((c) => c.key);
}

/** "4:59": what is left of a timed lock. */
export function countdown(ms) {
  const total = Math.max(0, Math.ceil(ms / 1000));
  return `${Math.floor(total / 60)}:${String(total % 60).padStart(2, '0')}`;
}

/** What the room's rules line says, for the user (`moderating`: the user may post anyway). */
export function rulesText(rules, moderating, now = Date.now()) {
  if (!rules) return '';
  if (rules.locked) {
    const who = rules.by ? ` by ${rules.by}` : '';
    const left = rules.lockedUntilMs ? ` · unlocks in ${countdown(rules.lockedUntilMs - now)}` : '';
    return `Locked${who}${left}${moderating ? ' · you can still write' : ': only moderators can write'}`;
  }
  if (rules.slowModeS) return `Slow mode: one message every ${rules.slowModeS} s${moderating ? ' (not for you)' : ''}`;
  return '';
}
