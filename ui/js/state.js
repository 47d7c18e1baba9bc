// The app's state and the user's actions on it (opening a conversation, paging its history, sending); events.js
// applies the bridge's events to it.
//
// No DOM and no bridge here: functions mutate the state and return a list of *effects* (bridge calls to make, such
// as `{ type: 'join', room }`) that main.js carries out. That keeps this module easy to test in Node.
//
// Rooms and direct conversations ("DMs", named `@nick` from the reader's side) are both *conversations*, keyed by
// their lowercase name. Each holds a bounded window of its messages (conversation.js); messages the user sent that
// are not yet acknowledged are kept apart as *pending*, keyed by `client_id`, until their `ack` arrives.

import { roomKey, sameNick } from './names.js';
import * as win from './conversation.js';
import { newSearch } from './search.js';

/** The server's limits until its `welcome` says otherwise (PROTOCOL.md §7.1). */
export const DEFAULT_LIMITS = {
  max_text_chars: 4000,
  max_nick_chars: 32,
  max_room_chars: 32,
  max_topic_chars: 200,
  history_page_max: 200,
  typing_ttl_ms: 5000,
};

/** A fresh state, for one window. `prefs` are the persisted notification preferences. */
export function createState(prefs = {}) {
  return {
    /** Connection state for the banner: idle | connecting | online | reconnecting | offline. */
    conn: { state: 'idle', attempt: 0, retryAt: 0, reason: '' },
    /** `{ url, nick }` of the current connection, or null on the connect screen. */
    session: null,
    /** Whether a `welcome` arrived in this session (the first one restores rooms; later ones are reconnects). */
    welcomed: false,
    me: '',
    server: '',
    limits: { ...DEFAULT_LIMITS },
    /** Every room on the server: lowercase name → `{ room, topic, members }` (members is a count). */
    listing: new Map(),
    /** Conversations the user has opened or that have news: key → Conversation (see `newConv` in conversation.js). */
    convs: new Map(),
    /** DM key → the other person's nickname as they write it (`@bob` → `Bob`). */
    dmNames: new Map(),
    /** Key of the conversation on screen, or null. */
    active: null,
    /** Whether the window is visible; messages that arrive while it is not count as unread. */
    visible: true,
    /** Highest seq the user has seen per conversation (persisted by main.js), for unread counts across restarts. */
    seen: {},
    seenDirty: false,
    /** Conversations to open after the first `welcome`, and which to show: `{ rooms: [], active }`. */
    restore: { rooms: [], active: null },
    prefs: { dnd: Boolean(prefs.dnd), muted: new Set(prefs.muted || []) },
    /** How the server holds the nickname (its `welcome`): 'guest', 'device' or 'account'; '' before it. */
    identity: '',
    /** This connection moderates (the server said `moderating`): the host's own app, with the server's token. */
    moderating: false,
    /** Room → its posting rules from `room_state`: `{ locked, lockedUntilMs, slowModeS, by }`; absent = none. */
    rules: new Map(),
    /** Room → nicknames with a raised hand, first raised first (`hands` events). */
    hands: new Map(),
    /** Room → who a moderator muted there (`room_state.muted`): they read, vote and react, but may not post. */
    muted: new Map(),
    /** Room → who a moderator removed from it (`room_state.removed`): they may not join until readmitted. */
    removed: new Map(),
    /** Room → its pinned message (`pinned` events), shaped as a stored message (message.js). */
    pinned: new Map(),
    /** Room → its live data (`data` events), see series.js. Not stored by the server: it starts over at `joined`. */
    live: new Map(),
    /** The "Register this nickname" request: waiting for the server's answer, and its refusal if any. */
    account: { pending: false, error: '' },
    /** The search of the conversation on screen (search.js). */
    search: newSearch(),
    /**
     * A room whose `join` the server refused for its password: `{ room, wrong, pending }` (`wrong`: the password
     * given was wrong; `pending`: a join with a password is on its way). See room-password.js.
     */
    roomPassword: null,
    /** A server error that named no room, when no room is on screen. */
    lastError: '',
    /** Counter for notice ids. */
    nextNoticeId: 1,
  };
}

/** The conversation for `room`, created when missing. */
export function conv(state, room) {
  const key = roomKey(room);
  let c = state.convs.get(key);
  if (!c) {
    c = win.newConv(key);
    state.convs.set(key, c);
  }
  return c;
}

/** Starts a new connection session: forgets everything of the previous server. */
export function startSession(state, session, restore) {
  const fresh = createState({ dnd: state.prefs.dnd, muted: [...state.prefs.muted] });
  Object.assign(state, fresh, {
    session,
    visible: state.visible,
    restore: restore || { rooms: [], active: null },
    conn: { state: 'connecting', attempt: 0, retryAt: 0, reason: '' },
  });
}

/** Remembers that the user has seen the newest message held in `c`. */
export function markSeen(state, c) {
  const top = win.newestSeq(c);
  if (top > (state.seen[c.key] || 0)) {
    state.seen[c.key] = top;
    state.seenDirty = true;
  }
}

/** Whether new messages in `c` are being watched right now (so they are not unread). */
export function watching(state, c) {
  return state.active === c.key && state.visible;
}

/**
 * Shows conversation `room`; returns the effects (join it, and load its newest page when its window is elsewhere in
 * the history: a conversation always opens on its newest messages).
 */
export function setActive(state, room, now = Date.now()) {
  const c = conv(state, room);
  state.active = c.key;
  state.lastError = ''; // Said while no conversation was on screen: the one opened now has its own notices.
  c.unread = 0;
  c.mention = false;
  c.atBottom = true;
  markSeen(state, c);
  const effects = [{ type: 'active', room: c.key }];
  if (!win.atNewest(c)) effects.push(...win.jumpToLatest(c, now));
  else if (c.joined && !c.historyAsked) effects.push(...win.requestLatest(c, now));
  if (!c.joined && !c.joining) {
    c.joining = true;
    effects.push({ type: 'join', room: c.key });
  }
  return effects;
}

/** The window became visible or hidden. */
export function setVisible(state, visible) {
  state.visible = visible;
  if (visible && state.active) {
    const c = state.convs.get(state.active);
    if (c) {
      c.unread = 0;
      c.mention = false;
      markSeen(state, c);
    }
  }
}

/** Asks for the page before the window of `room` (when older messages exist; one request at a time). */
export function requestOlder(state, room, now = Date.now()) {
  return win.requestOlder(conv(state, room), now);
}

/** Asks for the page after the window of `room` (when it is not at the newest; one request at a time). */
export function requestNewer(state, room, now = Date.now()) {
  return win.requestNewer(conv(state, room), now);
}

/** Shows the newest messages of `room` again: empties a window that is elsewhere and reloads the newest page. */
export function jumpToLatest(state, room, now = Date.now()) {
  const c = conv(state, room);
  const effects = win.jumpToLatest(c, now);
  if (state.active === c.key) markSeen(state, c);
  return effects;
}

/** Shows message `seq` of `room` (a search result): loads the page around it unless the window holds it. */
export function jumpToMessage(state, room, seq, now = Date.now()) {
  return win.jumpToSeq(conv(state, room), seq, now);
}

/** The bridge refused history request `id` of `room` (e.g. not connected). */
export function historyFailed(state, room, id) {
  const c = state.convs.get(roomKey(room));
  if (c) win.historyFailed(c, id);
}

/** Adds a join/leave/topic/error line after the newest message known now. */
export function addNotice(state, room, kind, text, now = Date.now()) {
  win.addNotice(conv(state, room), { id: state.nextNoticeId++, kind, text, ts: now });
}

/** A poll as sent (`{ options: [text], multiple }`) in the shape of a stored message's poll, with no votes yet. */
export function pendingPoll(spec) {
  if (!spec || !Array.isArray(spec.options)) return null;
  return { options: spec.options.map((text) => ({ text: String(text), voters: [] })), multiple: spec.multiple === true, closed: false };
}

/**
 * A message the user sent is waiting for its ack: show it as pending. `poll`: `{ options, multiple }` when it is a
 * poll; `quote`: what a reply quotes (`{ seq, from, text }`), which the `queued` event of the app does not carry;
 * `announce`: a moderator's announcement (shown as one, with nobody having read it yet).
 */
export function addPending(state, { client_id: clientId, room, text, poll, quote, announce }, now = Date.now()) {
  const c = conv(state, room);
  // Already acknowledged (the ack can overtake the send's own reply): nothing is pending.
  for (const m of c.msgs) if (m.client_id === clientId && m.from && sameNick(m.from, state.me)) return;
  const held = c.pending.get(clientId);
  if (held) {
    // The `queued` event came first: add what only the caller knows.
    if (!held.reply_to && quote) held.reply_to = quote;
    if (!held.poll && poll) held.poll = pendingPoll(poll);
    if (!held.announcement && announce) held.announcement = { acks: [] };
    c.rev++;
    return;
  }
  c.pending.set(clientId, {
    client_id: clientId, room: c.key, text, ts: now, error: '', poll: pendingPoll(poll), reply_to: quote || null,
    announcement: announce ? { acks: [] } : null,
  });
  c.rev++;
}

/** Removes a pending message the user dismissed after it was refused. */
export function dropPending(state, room, clientId) {
  const c = state.convs.get(roomKey(room));
  if (c && c.pending.delete(clientId)) c.rev++;
}

/** Forgets typing indicators that lapsed; returns whether the active conversation's changed. */
export function pruneTyping(state, now = Date.now()) {
  let changed = false;
  for (const c of state.convs.values()) {
    for (const [k, t] of c.typing) {
      if (t.until <= now) {
        c.typing.delete(k);
        if (c.key === state.active) changed = true;
      }
    }
  }
  return changed;
}
