// The events that run a class in a room, applied to the state (events.js dispatches them here): live data for the
// chart (PROTOCOL.md §7.23), the pinned message (§7.24), who is muted or removed (§7.19 `muted`, `removed`), and the
// user's own removal, which closes the room. Pure, like events.js: functions return effects.
//
// All of it is told again after each `joined` (and `data` only then and live), so `forgetRoom` drops a room's copy
// when a new `joined` arrives or the room is left: nothing stale survives a rejoin.

import { isDm, roomKey, sameNick } from './names.js';
import { setActive, addNotice } from './state.js';
import { roomEntries, dmEntries } from './selectors.js';
import { storedMessage, refresh } from './message.js';
import { newLive, addData } from './series.js';
import { listed, nickList, changeNotices, removedNote } from './moderation.js';

/** Forgets what room `key` told about itself after `joined`: its rules, hands, muted, removed, pin and live data. */
export function forgetRoom(state, key) {
  for (const map of [state.rules, state.hands, state.muted, state.removed, state.pinned, state.live]) map.delete(key);
}

/** A `data` event: its points join the room's series. */
export function onData(state, ev) {
  const key = roomKey(ev.room);
  if (!key || isDm(key)) return;
  const live = state.live.get(key) || newLive();
  if (addData(live, ev)) state.live.set(key, live);
}

/** A `pinned` event: the room's pinned message, or none; a moderator's change leaves a line in the room. */
export function onPinned(state, ev, now) {
  const key = roomKey(ev.room);
  const m = ev.message;
  const pinned = m && typeof m === 'object' && Number.isSafeInteger(m.seq) && m.deleted !== true;
  if (pinned) state.pinned.set(key, storedMessage(key, m));
  else state.pinned.delete(key);
  if (typeof ev.by === 'string' && ev.by && state.convs.has(key)) {
    addNotice(state, key, 'rules', pinned ? `${ev.by} pinned a message from ${m.from}` : `${ev.by} unpinned the message`, now);
  }
}

/** A `message_updated`: when it is the pinned message, the bar shows it as it is now (an older `rev` never). */
export function onUpdatedPin(state, ev) {
  const key = roomKey(ev.room);
  const held = state.pinned.get(key);
  if (!held || held.seq !== ev.seq) return;
  refresh(held, ev);
  if (held.deleted) state.pinned.delete(key); // The server unpins it too, and says so with `pinned`.
}

/** The muted and removed lists of a `room_state`; a moderator's change leaves a line per person in the room. */
export function onRoomLists(state, ev, now) {
  const key = roomKey(ev.room);
  const before = { muted: state.muted.get(key) || [], removed: state.removed.get(key) || [] };
  const after = { muted: nickList(ev.muted), removed: nickList(ev.removed) };
  for (const [map, list] of [[state.muted, after.muted], [state.removed, after.removed]]) {
    if (list.length) map.set(key, list);
    else map.delete(key);
  }
  if (typeof ev.by !== 'string' || !ev.by || !state.convs.has(key)) return;
  for (const line of changeNotices(before, after, ev.by, state.me)) addNotice(state, key, 'rules', line, now);
}

/**
 * The user is out of room `key` because a moderator removed them: the room closes, the conversation on screen
 * becomes the next joined one (or a direct conversation), and a notice there says what happened.
 */
function closeRemoved(state, key, now) {
  forgetRoom(state, key);
  state.convs.delete(key);
  const effects = [];
  if (state.active === key) {
    state.active = null;
    const next = roomEntries(state).find((r) => r.joined) || dmEntries(state)[0];
    if (next) effects.push(...setActive(state, next.key, now));
  }
  if (state.active) addNotice(state, state.active, 'removed', removedNote(key), now);
  else state.lastError = removedNote(key);
  return effects;
}

/**
 * A `left`: the reply to the user's `leave`, or, after a `room_state` listing the user in `removed`, the server
 * taking them out. Either way the room closes; only a removal is told.
 */
export function onLeft(state, ev, now) {
  const key = roomKey(ev.room);
  const c = state.convs.get(key);
  if (!c || c.dm) {
    forgetRoom(state, key);
    return [];
  }
  if (listed(state.removed.get(key), state.me)) return closeRemoved(state, key, now);
  forgetRoom(state, key);
  state.convs.delete(key);
  return [];
}

/** A `member_left` about the user with reason `removed` closes the room like the `left` that goes with it. */
export function onMeRemoved(state, ev, now) {
  const key = roomKey(ev.room);
  const c = state.convs.get(key);
  if (!c || c.dm || !sameNick(ev.nick, state.me)) return [];
  return closeRemoved(state, key, now);
}
