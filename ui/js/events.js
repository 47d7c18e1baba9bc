// Applies the bridge's events (docs/APP-BRIDGE.md) to the state of state.js: the connection's state, what the server
// says (PROTOCOL.md §7), sends queued by the app, and preference changes. Pure: `applyEvent` returns the *effects*
// to carry out, like the actions of state.js.

import { roomKey, isDm, sameNick, mentions } from './names.js';
import * as win from './conversation.js';
import { DEFAULT_LIMITS, conv, setActive, addNotice, addPending, markSeen, watching } from './state.js';
import { quoteFor } from './message.js';
import { forgetRoom, onData, onPinned, onUpdatedPin, onRoomLists, onLeft, onMeRemoved } from './classroom.js';
import { onSearchResults, onSearchError, searchFailed } from './search.js';
import { onPasswordRefusal, onRoomEntered } from './room-password.js';

/** Server error codes that answer a `history` request (a read failure, a bad range): it will get no page. */
const HISTORY_ERRORS = new Set(['storage_failed', 'invalid_range']);

/** Server error codes that answer `register` or `logout_everywhere`: shown in the register dialog when it waits. */
const ACCOUNT_ERRORS = new Set(['already_registered', 'weak_password', 'not_signed_in']);

function addMember(c, nick) {
  if (c.members.some((m) => sameNick(m, nick))) return false;
  c.members.push(nick);
  c.members.sort((a, b) => a.toLowerCase().localeCompare(b.toLowerCase()));
  return true;
}

function removeMember(c, nick) {
  const before = c.members.length;
  c.members = c.members.filter((m) => !sameNick(m, nick));
  return c.members.length !== before;
}

/** A room as `room_list`, `welcome.rooms` and `room_created` describe it; `hasPassword`: its first join needs one. */
function listed(r) {
  return { room: roomKey(r.room), topic: r.topic || '', members: r.members || 0, hasPassword: r.has_password === true };
}

function setListing(state, rooms) {
  state.listing = new Map();
  for (const r of rooms || []) state.listing.set(roomKey(r.room), listed(r));
}

/**
 * Applies one bridge event (`state`, `server`, `queued` or `prefs`; see docs/APP-BRIDGE.md) and returns the effects to
 * carry out.
 */
export function applyEvent(state, event, now = Date.now()) {
  if (!event || typeof event !== 'object') return [];
  switch (event.kind) {
    case 'state':
      state.conn = {
        state: event.state,
        attempt: event.attempt || 0,
        retryAt: event.state === 'reconnecting' ? now + (event.retry_in_ms || 0) : 0,
        reason: event.reason || '',
      };
      if (event.state === 'untrusted') {
        // The server's certificate changed: the fingerprints (grouped) for the user to compare with the host's.
        state.conn.expected = event.expected || '';
        state.conn.presented = event.presented || '';
      }
      if (event.state !== 'online') {
        for (const c of state.convs.values()) {
          // While the connection is down nobody's typing can be known; the server repeats live typing afterwards.
          c.typing.clear();
          // Requests on the old connection get no answer; the rejoin asks again for a conversation still empty.
          win.abandonRequests(c);
        }
        // Likewise a search: its answer will not come.
        if (state.search.pending) searchFailed(state, 'The connection dropped: search again once it is back.');
        if (state.roomPassword) state.roomPassword.pending = false;
      }
      return [];
    case 'queued': {
      // A reply queued by the app names the message it answers: quote it from the window when it is there.
      // (`announce: true`, a moderator's announcement, is shown as one while it waits.)
      const answered = Number.isSafeInteger(event.reply_to) ? conv(state, event.room).bySeq.get(event.reply_to) : null;
      addPending(state, { ...event, quote: answered ? quoteFor(answered) : null }, now);
      return [];
    }
    case 'prefs':
      // Changed outside the UI (the tray's do-not-disturb item).
      state.prefs = { dnd: Boolean(event.dnd), muted: new Set(Array.isArray(event.muted) ? event.muted : []) };
      return [{ type: 'save-prefs' }];
    case 'server':
      return applyServer(state, event.event || {}, now);
    default:
      return [];
  }
}

function applyServer(state, ev, now) {
  switch (ev.type) {
    case 'welcome':
      return onWelcome(state, ev);
    case 'joined':
      return onJoined(state, ev, now);
    case 'left':
      return onLeft(state, ev, now);
    case 'message':
      onMessage(state, ev);
      return [];
    case 'message_updated': {
      // Only a message on screen can change; one outside the window is read fresh when the window reaches it.
      const c = state.convs.get(roomKey(ev.room));
      if (c) win.applyUpdate(c, ev);
      onUpdatedPin(state, ev);
      return [];
    }
    case 'ack':
      onAck(state, ev);
      return [];
    case 'history':
      onHistory(state, ev, now);
      return [];
    case 'member_joined': {
      const c = state.convs.get(roomKey(ev.room));
      if (c && addMember(c, ev.nick) && !sameNick(ev.nick, state.me)) addNotice(state, c.key, 'join', `${ev.nick} joined`, now);
      return [];
    }
    case 'member_left': {
      const c = state.convs.get(roomKey(ev.room));
      if (!c) return [];
      if (ev.reason === 'removed' && sameNick(ev.nick, state.me)) return onMeRemoved(state, ev, now);
      c.typing.delete(String(ev.nick).toLowerCase());
      // A removal is told by the `room_state` that follows ("teacher removed bo from the room"): no second line.
      if (removeMember(c, ev.nick) && ev.reason !== 'removed') {
        const verb = ev.reason === 'disconnected' ? 'went offline' : 'left';
        addNotice(state, c.key, 'leave', `${ev.nick} ${verb}`, now);
      }
      return [];
    }
    case 'typing': {
      if (sameNick(ev.nick, state.me)) return [];
      const c = conv(state, ev.room);
      const k = String(ev.nick).toLowerCase();
      if (ev.typing) c.typing.set(k, { nick: ev.nick, until: now + (state.limits.typing_ttl_ms || 5000) });
      else c.typing.delete(k);
      return [];
    }
    case 'room_list':
      setListing(state, ev.rooms);
      return [];
    case 'moderating':
      state.moderating = true;
      return [];
    case 'room_state':
      onRoomState(state, ev, now);
      return [];
    case 'hands': {
      const raised = Array.isArray(ev.raised) ? ev.raised.filter((n) => typeof n === 'string') : [];
      if (raised.length) state.hands.set(roomKey(ev.room), raised);
      else state.hands.delete(roomKey(ev.room));
      return [];
    }
    case 'data':
      onData(state, ev);
      return [];
    case 'pinned':
      onPinned(state, ev, now);
      return [];
    case 'called_on': {
      const key = roomKey(ev.room);
      if (!state.convs.has(key)) return [];
      const who = sameNick(ev.nick, state.me) ? 'you' : ev.nick;
      addNotice(state, key, 'rules', `${ev.by} called on ${who}`, now);
      return [];
    }
    case 'room_created':
      state.listing.set(roomKey(ev.room), listed(ev));
      return [];
    case 'search_results':
      onSearchResults(state, ev);
      return [];
    case 'topic': {
      const key = roomKey(ev.room);
      const listed = state.listing.get(key);
      if (listed) listed.topic = ev.topic || '';
      const c = state.convs.get(key);
      if (c) {
        c.topic = ev.topic || '';
        const by = ev.by || 'Someone';
        addNotice(state, key, 'topic', ev.topic ? `${by} set the topic: ${ev.topic}` : `${by} cleared the topic`, now);
      }
      return [];
    }
    case 'members': {
      const c = state.convs.get(roomKey(ev.room));
      if (c) c.members = [...(ev.members || [])];
      return [];
    }
    case 'error':
      onError(state, ev, now);
      return [];
    case 'registered':
      // The shell kept the sign-in (the event carries no token): this nickname is now an account.
      state.identity = 'account';
      state.account = { pending: false, error: '' };
      accountNotice(state, `You registered ${ev.nick || state.me}. On another computer, sign in with its password.`, now);
      return [];
    case 'logged_out': {
      const n = Number(ev.sessions) || 0;
      const ended = n === 1 ? '1 sign-in ended' : `${n} sign-ins ended`;
      accountNotice(state, `Logged out everywhere (${ended}). Next time you connect, type your nickname's password.`, now);
      return [];
    }
    default:
      return []; // pong, and event types added later.
  }
}

/** A line about the account in the conversation on screen (or, with none, where room-less errors go). */
function accountNotice(state, text, now) {
  if (state.active) addNotice(state, state.active, 'info', text, now);
  else state.lastError = text;
}

/** "teacher locked the room for 5 min", "The lock ended", "teacher set slow mode: 10 s". */
export function rulesNotice(before, after, now = Date.now()) {
  const by = after.by;
  if (after.locked !== before.locked || after.lockedUntilMs !== before.lockedUntilMs) {
    if (!after.locked) return by ? `${by} unlocked the room` : 'The lock ended: everyone can write again';
    if (!after.lockedUntilMs) return `${by || 'A moderator'} locked the room: only moderators can write`;
    const minutes = Math.max(1, Math.round((after.lockedUntilMs - now) / 60_000));
    return `${by || 'A moderator'} locked the room for ${minutes} min: only moderators can write`;
  }
  if (after.slowModeS !== before.slowModeS) {
    if (!after.slowModeS) return `${by || 'A moderator'} turned slow mode off`;
    return `${by || 'A moderator'} set slow mode: one message every ${after.slowModeS} s`;
  }
  return '';
}

function onRoomState(state, ev, now) {
  const key = roomKey(ev.room);
  const before = state.rules.get(key) || { locked: false, lockedUntilMs: 0, slowModeS: 0, by: '' };
  const after = {
    locked: Boolean(ev.locked),
    lockedUntilMs: Number.isSafeInteger(ev.locked_until_ms) ? ev.locked_until_ms : 0,
    slowModeS: Number.isSafeInteger(ev.slow_mode_s) ? ev.slow_mode_s : 0,
    by: typeof ev.by === 'string' ? ev.by : '',
  };
  if (after.locked || after.slowModeS) state.rules.set(key, after);
  else state.rules.delete(key);
  // Told on joining (no `by`): the state, not a change worth a line.
  const text = before.locked || before.slowModeS || after.by ? rulesNotice(before, after, now) : '';
  if (text && state.convs.has(key)) addNotice(state, key, 'rules', text, now);
  onRoomLists(state, ev, now);
}

function onWelcome(state, ev) {
  // A new connection: moderator rights and what each room says about itself are told again after it (`moderating`,
  // and after each `joined`: `room_state`, `hands`, `pinned`, recent `data`).
  state.moderating = false;
  for (const map of [state.rules, state.hands, state.muted, state.removed, state.pinned, state.live]) map.clear();
  state.me = ev.nick || state.me;
  state.identity = ev.identity || 'guest';
  state.server = ev.server || '';
  state.limits = { ...DEFAULT_LIMITS, ...(ev.limits || {}) };
  setListing(state, ev.rooms);
  for (const d of ev.dms || []) {
    const c = conv(state, d.room);
    const lastSeq = d.last_seq || 0;
    const seen = state.seen[c.key];
    if (!state.welcomed && seen !== undefined && lastSeq > seen && !watching(state, c)) c.unread = lastSeq - seen;
    if (lastSeq > c.lastSeq) c.lastSeq = lastSeq;
  }
  if (state.welcomed) return []; // A reconnect: the app rejoins and replays by itself.
  state.welcomed = true;
  const wanted = state.restore.rooms.map(roomKey).filter((r) => r && (isDm(r) || state.listing.has(r)));
  if (!wanted.length) wanted.push('lobby');
  const first = wanted.includes(roomKey(state.restore.active)) ? roomKey(state.restore.active) : wanted[0];
  const effects = [];
  for (const r of wanted) {
    const c = conv(state, r);
    if (r !== first && !c.joining) {
      c.joining = true;
      effects.push({ type: 'join', room: r });
    }
  }
  return [...setActive(state, first), ...effects];
}

function onJoined(state, ev, now) {
  const c = conv(state, ev.room);
  onRoomEntered(state, c.key);
  // The room's rules, hands, pin and recent data follow this reply: they replace whatever was held.
  if (!c.dm) forgetRoom(state, c.key);
  const firstJoin = !c.joined && !c.historyAsked;
  c.joined = true;
  c.joining = false;
  c.topic = ev.topic || '';
  c.members = [...(ev.members || [])];
  const lastSeq = ev.last_seq || 0;
  // The server's copy is behind ours (its data was reset): drop ours and reload.
  if (lastSeq < win.newestSeq(c)) win.resetWindow(c);
  // After a reconnect the missed messages follow as live messages, extending the window from where it ends.
  c.lastSeq = lastSeq;
  // Messages gap.from..gap.to are not replayed: keep only what follows, and page back with "Load older".
  if (ev.gap) win.dropBefore(c, ev.gap.to + 1);
  if (firstJoin && !c.dm && !watching(state, c)) {
    const seen = state.seen[c.key];
    if (seen !== undefined && lastSeq > seen) c.unread = lastSeq - seen;
  }
  // More messages changed while away than the resume re-sent: what the window shows may be stale, so read it again.
  if (ev.updates_dropped === true && c.msgs.length) return win.reloadWindow(c, now);
  // The newest page fills the window; live messages that arrived before it are merged by seq.
  if (!c.historyAsked) return win.requestLatest(c, now);
  return [];
}

function onMessage(state, ev) {
  const c = conv(state, ev.room);
  const mine = sameNick(ev.from, state.me);
  if (c.dm && !mine) state.dmNames.set(c.key, ev.from);
  // While the user reads older messages of this window, none is dropped under them: a full window stops here.
  const keepOldest = state.active === c.key && !c.atBottom;
  if (win.addLive(c, ev, { keepOldest }) === 'duplicate') return;
  c.typing.delete(String(ev.from).toLowerCase());
  if (watching(state, c)) {
    markSeen(state, c);
  } else if (!mine) {
    c.unread++;
    if (c.dm || mentions(ev.text, state.me)) c.mention = true;
  }
}

function onAck(state, ev) {
  const c = conv(state, ev.room);
  const p = c.pending.get(ev.client_id);
  c.pending.delete(ev.client_id);
  // The user just sent it, so they look at the newest messages: nothing older is kept for them.
  // Built from what was sent until the server's own copy (the broadcast `message`) replaces it.
  if (p) {
    win.addLive(c, {
      seq: ev.seq, id: ev.id, ts: ev.ts, from: state.me, text: p.text, client_id: ev.client_id,
      poll: p.poll, reply_to: p.reply_to, announcement: p.announcement, local: true,
    });
  }
  c.rev++;
  if (watching(state, c)) markSeen(state, c);
}

function onHistory(state, ev, now) {
  const c = conv(state, ev.room);
  const added = win.applyPage(c, ev, now);
  if (!added) return;
  if (c.dm) for (const m of added) if (!sameNick(m.from, state.me)) state.dmNames.set(c.key, m.from);
  if (watching(state, c)) markSeen(state, c);
}

/** Error codes after which the app keeps the message in its outbox and sends it again later. */
const RETRIED = new Set(['storage_failed', 'rate_limited', 'unavailable']);

function onError(state, ev, now) {
  const message = ev.message || ev.code || 'The server refused the request.';
  if (ev.code === 'rate_limited' || ev.code === 'room_exists') return; // The app retries; creating joins anyway.
  // A room's password is asked for in a dialog, and a search's refusal shows in the search panel: no notice.
  if (onPasswordRefusal(state, ev)) return;
  const held = ev.room ? state.convs.get(roomKey(ev.room)) : null;
  if (!ev.client_id && onSearchError(state, ev, { historyWaiting: Boolean(held && held.requests.length) })) return;
  if (ACCOUNT_ERRORS.has(ev.code) && state.account.pending) {
    state.account = { pending: false, error: message };
    return;
  }
  if (ev.client_id) {
    for (const c of state.convs.values()) {
      const p = c.pending.get(ev.client_id);
      if (p) {
        if (!RETRIED.has(ev.code)) {
          p.error = message;
          c.rev++;
        }
        return;
      }
    }
  }
  const key = ev.room ? roomKey(ev.room) : state.active;
  if (!key) {
    state.lastError = message;
    return;
  }
  const c = conv(state, key);
  if (!c.joined) c.joining = false;
  if (ev.room && HISTORY_ERRORS.has(ev.code)) win.abandonRequests(c, false);
  addNotice(state, key, 'error', message, now);
}
