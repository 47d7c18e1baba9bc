// The app's state and the pure functions that apply bridge events to it.
//
// No DOM and no bridge here: `applyEvent` mutates the state and returns a list of *effects* (bridge calls to make,
// such as `{ type: 'join', room }`) that main.js carries out. That keeps this module easy to test in Node.
//
// Rooms and direct conversations ("DMs", named `@nick` from the reader's side) are both *conversations*, keyed by
// their lowercase name. Messages are kept per conversation, sorted and de-duplicated by `seq`; messages the user sent
// that are not yet acknowledged are kept apart as *pending*, keyed by `client_id`, until their `ack` arrives.

/** Most messages kept (and rendered) per conversation while the user reads the newest ones. */
export const WINDOW = 500;
/** Most join/leave/topic notices kept per conversation. */
const MAX_NOTICES = 200;

const DEFAULT_LIMITS = {
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
    /** Conversations the user has opened or that have news: key → Conversation (see `newConv`). */
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
    /** A server error that named no room, when no room is on screen. */
    lastError: '',
    /** Counter for notice ids. */
    nextNoticeId: 1,
  };
}

/** Lowercase key of a room or `@nick` (the server folds both to lowercase). */
export function roomKey(room) {
  return String(room || '').toLowerCase();
}

export function isDm(room) {
  return String(room || '').startsWith('@');
}

function newConv(key) {
  return {
    key,
    dm: isDm(key),
    /** A `joined` arrived (and no `left` since). */
    joined: false,
    /** A `join` was asked for and its `joined` has not arrived yet. */
    joining: false,
    topic: '',
    /** Nicknames online in the room, as the server writes them. */
    members: [],
    /** Highest seq known to exist (from `joined.last_seq` and messages). */
    lastSeq: 0,
    /** Messages in ascending seq; `bySeq` indexes them. */
    msgs: [],
    bySeq: new Map(),
    /** Unacknowledged sends: client_id → `{ client_id, room, text, ts, error }`. */
    pending: new Map(),
    /** Join/leave/topic/error lines: `{ id, kind, text, afterSeq, ts }`. */
    notices: [],
    /** Older messages exist on the server beyond `msgs[0]`. */
    hasMore: false,
    /** The first history page was asked for. */
    historyAsked: false,
    /** History requests not answered yet. */
    historyInflight: 0,
    unread: 0,
    /** An unread message mentions the user. */
    mention: false,
    /** Who is typing: lowercase nick → `{ nick, until }`. */
    typing: new Map(),
    /** Whether the user is reading the newest messages (set by the view); when not, nothing is trimmed. */
    atBottom: true,
    /** Bumped on every change to what the message list shows. */
    rev: 0,
  };
}

/** The conversation for `room`, created when missing. */
export function conv(state, room) {
  const key = roomKey(room);
  let c = state.convs.get(key);
  if (!c) {
    c = newConv(key);
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

/** Whether `text` mentions `@nick` (case-insensitive, not inside a longer name). */
export function mentions(text, nick) {
  if (!nick || !text) return false;
  const escaped = nick.replace(/[\\^$.*+?()[\]{}|/]/g, '\\$&'); // Only syntax characters: 'u' mode rejects others.
  // No lookbehind (older WebKit lacks it): the '@' starts the text or follows a character that is not part of a name.
  return new RegExp(`(?:^|[^\\p{L}\\p{N}_.-])@${escaped}(?![\\p{L}\\p{N}_-])`, 'iu').test(text);
}

function markSeen(state, c) {
  const top = c.msgs.length ? c.msgs[c.msgs.length - 1].seq : 0;
  if (top > (state.seen[c.key] || 0)) {
    state.seen[c.key] = top;
    state.seenDirty = true;
  }
}

/** Whether new messages in `c` are being watched right now (so they are not unread). */
function watching(state, c) {
  return state.active === c.key && state.visible;
}

/** Shows conversation `room`; returns the effects (join it and load its newest page when needed). */
export function setActive(state, room) {
  const c = conv(state, room);
  state.active = c.key;
  c.unread = 0;
  c.mention = false;
  c.atBottom = true;
  trimToWindow(c);
  markSeen(state, c);
  const effects = [{ type: 'active', room: c.key }];
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

/** Asks for a page of older messages (or the newest page when the conversation holds none). */
export function requestOlder(state, room) {
  const c = conv(state, room);
  if (c.historyInflight > 0) return [];
  c.historyInflight++;
  c.historyAsked = true;
  c.rev++;
  return [{ type: 'history', room: c.key, before: c.msgs.length ? c.msgs[0].seq : null }];
}

/** Keeps at most WINDOW messages when the user reads the newest ones; older ones are paged back in on request. */
export function trimToWindow(c) {
  if (!c.atBottom || c.msgs.length <= WINDOW) return false;
  const dropped = c.msgs.splice(0, c.msgs.length - WINDOW);
  for (const m of dropped) c.bySeq.delete(m.seq);
  const oldest = c.msgs[0].seq;
  c.notices = c.notices.filter((n) => n.afterSeq >= oldest);
  c.hasMore = true;
  c.rev++;
  return true;
}

function insertMessage(c, m) {
  if (c.bySeq.has(m.seq)) return false;
  const msg = { room: c.key, seq: m.seq, id: m.id, from: m.from, text: m.text, ts: m.ts, client_id: m.client_id };
  c.bySeq.set(msg.seq, msg);
  const last = c.msgs[c.msgs.length - 1];
  if (!last || last.seq < msg.seq) {
    c.msgs.push(msg);
  } else {
    let lo = 0;
    let hi = c.msgs.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (c.msgs[mid].seq < msg.seq) lo = mid + 1;
      else hi = mid;
    }
    c.msgs.splice(lo, 0, msg);
  }
  if (msg.seq > c.lastSeq) c.lastSeq = msg.seq;
  if (msg.client_id) c.pending.delete(msg.client_id);
  c.rev++;
  return true;
}

/** Adds a join/leave/topic/error line after the newest message known now. */
export function addNotice(state, room, kind, text, now = Date.now()) {
  const c = conv(state, room);
  c.notices.push({ id: state.nextNoticeId++, kind, text, afterSeq: c.lastSeq, ts: now });
  if (c.notices.length > MAX_NOTICES) c.notices.splice(0, c.notices.length - MAX_NOTICES);
  c.rev++;
}

/** A message the user sent is waiting for its ack: show it as pending. */
export function addPending(state, { client_id: clientId, room, text }, now = Date.now()) {
  const c = conv(state, room);
  // Already acknowledged (the ack can overtake the send's own reply): nothing is pending.
  for (const m of c.msgs) if (m.client_id === clientId && m.from && sameNick(m.from, state.me)) return;
  if (c.pending.has(clientId)) return;
  c.pending.set(clientId, { client_id: clientId, room: c.key, text, ts: now, error: '' });
  c.rev++;
}

/** Removes a pending message the user dismissed after it was refused. */
export function dropPending(state, room, clientId) {
  const c = state.convs.get(roomKey(room));
  if (c && c.pending.delete(clientId)) c.rev++;
}

function sameNick(a, b) {
  return String(a).toLowerCase() === String(b).toLowerCase();
}

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

function setListing(state, rooms) {
  state.listing = new Map();
  for (const r of rooms || []) state.listing.set(roomKey(r.room), { room: roomKey(r.room), topic: r.topic || '', members: r.members || 0 });
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
      // While the connection is down nobody's typing can be known; the server repeats live typing afterwards.
      if (event.state !== 'online') for (const c of state.convs.values()) c.typing.clear();
      return [];
    case 'queued':
      addPending(state, event, now);
      return [];
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
      return onJoined(state, ev);
    case 'left': {
      const key = roomKey(ev.room);
      const c = state.convs.get(key);
      if (c && !c.dm) state.convs.delete(key);
      return [];
    }
    case 'message':
      onMessage(state, ev);
      return [];
    case 'ack':
      onAck(state, ev);
      return [];
    case 'history':
      onHistory(state, ev);
      return [];
    case 'member_joined': {
      const c = state.convs.get(roomKey(ev.room));
      if (c && addMember(c, ev.nick) && !sameNick(ev.nick, state.me)) addNotice(state, c.key, 'join', `${ev.nick} joined`, now);
      return [];
    }
    case 'member_left': {
      const c = state.convs.get(roomKey(ev.room));
      if (!c) return [];
      c.typing.delete(String(ev.nick).toLowerCase());
      if (removeMember(c, ev.nick)) {
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
    case 'room_created':
      state.listing.set(roomKey(ev.room), { room: roomKey(ev.room), topic: ev.topic || '', members: ev.members || 0 });
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
    default:
      return []; // pong, left, and event types added later.
  }
}

function onWelcome(state, ev) {
  state.me = ev.nick || state.me;
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

function onJoined(state, ev) {
  const c = conv(state, ev.room);
  const firstJoin = !c.joined && !c.historyAsked;
  c.joined = true;
  c.joining = false;
  c.topic = ev.topic || '';
  c.members = [...(ev.members || [])];
  const lastSeq = ev.last_seq || 0;
  const held = c.msgs.length ? c.msgs[c.msgs.length - 1].seq : 0;
  if (lastSeq < held) {
    // The server's copy is behind ours (its data was reset): drop ours and reload.
    c.msgs = [];
    c.bySeq.clear();
    c.notices = [];
    c.historyAsked = false;
    c.rev++;
  }
  c.lastSeq = lastSeq;
  if (ev.gap) {
    // Messages gap.from..gap.to are not replayed: keep only what follows, and page back with "Load older".
    const keepFrom = ev.gap.to + 1;
    const dropped = c.msgs.filter((m) => m.seq < keepFrom);
    if (dropped.length) {
      c.msgs = c.msgs.filter((m) => m.seq >= keepFrom);
      for (const m of dropped) c.bySeq.delete(m.seq);
      c.notices = c.notices.filter((n) => n.afterSeq >= keepFrom - 1);
    }
    c.hasMore = true;
    c.rev++;
  }
  if (firstJoin && !c.dm && !watching(state, c)) {
    const seen = state.seen[c.key];
    if (seen !== undefined && lastSeq > seen) c.unread = lastSeq - seen;
  }
  // The newest page fills the list; live messages that arrived before it are merged by seq.
  if (!c.historyAsked) return requestOlder(state, c.key);
  return [];
}

function onMessage(state, ev) {
  const c = conv(state, ev.room);
  const mine = sameNick(ev.from, state.me);
  if (c.dm && !mine) state.dmNames.set(c.key, ev.from);
  if (!insertMessage(c, ev)) return;
  c.typing.delete(String(ev.from).toLowerCase());
  if (watching(state, c)) {
    markSeen(state, c);
    trimToWindow(c);
  } else if (!mine) {
    c.unread++;
    if (c.dm || mentions(ev.text, state.me)) c.mention = true;
    trimToWindow(c);
  }
}

function onAck(state, ev) {
  const c = conv(state, ev.room);
  const p = c.pending.get(ev.client_id);
  c.pending.delete(ev.client_id);
  if (p) insertMessage(c, { seq: ev.seq, id: ev.id, ts: ev.ts, from: state.me, text: p.text, client_id: ev.client_id });
  c.rev++;
  if (watching(state, c)) markSeen(state, c);
}

function onHistory(state, ev) {
  const c = conv(state, ev.room);
  const msgs = ev.messages || [];
  const oldestBefore = c.msgs.length ? c.msgs[0].seq : Infinity;
  c.historyInflight = Math.max(0, c.historyInflight - 1);
  c.historyAsked = true;
  for (const m of msgs) {
    insertMessage(c, m);
    if (c.dm && !sameNick(m.from, state.me)) state.dmNames.set(c.key, m.from);
  }
  // Only a page that reaches further back than what we held says whether even older ones exist.
  if (!msgs.length || msgs[0].seq < oldestBefore) c.hasMore = Boolean(ev.has_more);
  if (watching(state, c)) markSeen(state, c);
  c.rev++;
}

/** Error codes after which the app keeps the message in its outbox and sends it again later. */
const RETRIED = new Set(['storage_failed', 'rate_limited', 'unavailable']);

function onError(state, ev, now) {
  const message = ev.message || ev.code || 'The server refused the request.';
  if (ev.code === 'rate_limited' || ev.code === 'room_exists') return; // The app retries; creating joins anyway.
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
  addNotice(state, key, 'error', message, now);
}
