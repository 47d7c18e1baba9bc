// Who a moderator muted or removed in each room (PROTOCOL.md §6.23, told as `room_state.muted` / `.removed`), and
// what follows for the user and for the online list. Pure: events.js keeps the lists, the views read them.
//
// The server names people as the moderator typed them ("Bo" for "bo"), so every comparison ignores case.

import { sameNick } from './names.js';

/** Whether `nick` is in `list` (case-insensitively). */
export function listed(list, nick) {
  return Boolean(nick) && Array.isArray(list) && list.some((n) => sameNick(n, nick));
}

/** The nicknames of a `room_state` list field (absent when empty, §7.19). */
export function nickList(value) {
  return Array.isArray(value) ? value.filter((n) => typeof n === 'string' && n) : [];
}

/** Whether the user `me` is muted in `room` (a room key). */
export function mutedHere(state, room, me = state.me) {
  return Boolean(room) && listed(state.muted.get(room), me);
}

/** What the composer says while the user is muted in `room`. */
export function mutedNote(room) {
  return `A moderator muted you in #${room}: you can still read, vote and react`;
}

/** The notice left in the conversation the user sees after being removed from `room`. */
export function removedNote(room) {
  return `A moderator removed you from #${room}. Only a moderator can let you back in.`;
}

/**
 * The lines a change of the muted and removed lists leaves in the room: "teacher muted bo", "teacher let you back
 * in", … `before`/`after`: `{ muted, removed }`; `by`: the moderator; `me`: the user, who reads "you".
 */
export function changeNotices(before, after, by, me) {
  const who = (nick) => (sameNick(nick, me) ? 'you' : nick);
  const lines = [];
  const diff = (was, now, on, off) => {
    for (const nick of now) if (!listed(was, nick)) lines.push(`${by} ${on(who(nick))}`);
    for (const nick of was) if (!listed(now, nick)) lines.push(`${by} ${off(who(nick))}`);
  };
  diff(before.muted, after.muted, (n) => `muted ${n}`, (n) => `unmuted ${n}`);
  diff(before.removed, after.removed, (n) => `removed ${n} from the room`, (n) => `let ${n} back in`);
  return lines;
}

/**
 * The online list's entries for conversation `c`: `{ nick, self, hand, muted, actions }`, where `actions` says
 * whether the moderator's Mute/Remove buttons belong beside it (never on the moderator's own entry).
 */
export function memberEntries(state, c, moderator) {
  if (!c) return [];
  const hands = state.hands.get(c.key) || [];
  const muted = c.dm ? [] : state.muted.get(c.key) || [];
  return c.members.map((nick) => {
    const self = sameNick(nick, state.me);
    return { nick, self, hand: listed(hands, nick), muted: listed(muted, nick), actions: Boolean(moderator) && !c.dm && !self };
  });
}

/** Who may not come back to the room on screen, for the moderator's "Removed" list. */
export function removedEntries(state, moderator) {
  const c = state.active ? state.convs.get(state.active) : null;
  if (!moderator || !c || c.dm) return [];
  return state.removed.get(c.key) || [];
}
