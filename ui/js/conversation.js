// One conversation (a room or a direct conversation) and its sliding window of messages. Pure: no DOM, no bridge.
//
// A conversation holds at most WINDOW messages, contiguous in `seq` (the server numbers every conversation 1, 2, 3…
// without gaps, PROTOCOL.md §12). The window slides:
//
// - Paging older (`requestOlder`, `history {before: oldest}`) adds a page at the top and drops the newest messages
//   beyond WINDOW. The window is then no longer at the newest: `atNewest(c)` is false.
// - Paging newer (`requestNewer`, `history {after: newest}`) adds a page at the bottom and drops the oldest.
// - A live message is added only when it extends the window (its `seq` follows the newest held). When the window is
//   elsewhere in the history it is only counted (`lastSeq`), and the view offers "Jump to latest", which empties the
//   window and loads the newest page again (`jumpToLatest`).
//
// History requests are remembered until their reply arrives, so that each `history` reply (which does not say what
// it answers) is matched with the request it fits; a request superseded by a jump, or unanswered for REQUEST_TTL_MS
// (the server drops a request with `rate_limited` without naming it), is stale and its reply is ignored.

import { isDm } from './names.js';
import { storedMessage, refresh } from './message.js';

/** Most messages held (and rendered) per conversation. */
export const WINDOW = 500;
/** Most join/leave/topic notices kept per conversation. */
export const MAX_NOTICES = 200;
/** A history request unanswered for this long is taken as lost: it no longer blocks new requests. */
export const REQUEST_TTL_MS = 15000;

/** A new, empty conversation for `key` (a lowercase room name or `@nick`). */
export function newConv(key) {
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
    /** Highest seq known to exist on the server (from `joined.last_seq`, live messages and history pages). */
    lastSeq: 0,
    /** The window: at most WINDOW messages in ascending, contiguous seq; `bySeq` indexes them. */
    msgs: [],
    bySeq: new Map(),
    /**
     * Unacknowledged sends: client_id → `{ client_id, room, text, ts, error, poll, reply_to, announcement }`
     * (`poll`, the `reply_to` quote and the `announcement` mark shaped as in a stored message, or null).
     */
    pending: new Map(),
    /** Join/leave/topic/error lines: `{ id, kind, text, afterSeq, ts }`. */
    notices: [],
    /** Older messages exist on the server before `msgs[0]`. */
    hasMore: false,
    /** The first history page was asked for. */
    historyAsked: false,
    /** History requests not answered yet, oldest first: `{ id, dir, before, after, at, stale }`. */
    requests: [],
    nextRequestId: 1,
    unread: 0,
    /** An unread message mentions the user. */
    mention: false,
    /** Who is typing: lowercase nick → `{ nick, until }`. */
    typing: new Map(),
    /** Whether the view shows the bottom of the list (set by the view). */
    atBottom: true,
    /** Bumped on every change to what the message list shows. */
    rev: 0,
  };
}

/** Seq of the oldest message held, or 0. */
export function oldestSeq(c) {
  return c.msgs.length ? c.msgs[0].seq : 0;
}

/** Seq of the newest message held, or 0. */
export function newestSeq(c) {
  return c.msgs.length ? c.msgs[c.msgs.length - 1].seq : 0;
}

/** Whether the window reaches the newest message known to exist (an empty window waits for the newest page). */
export function atNewest(c) {
  return c.msgs.length === 0 || newestSeq(c) >= c.lastSeq;
}

/** How many messages exist after the window (0 when it is at the newest). */
export function newerCount(c) {
  return atNewest(c) ? 0 : c.lastSeq - newestSeq(c);
}

const isLive = (r, now) => !r.stale && now - r.at <= REQUEST_TTL_MS;

/** Requests still expected to be answered; those unanswered for REQUEST_TTL_MS become stale. */
function liveRequests(c, now) {
  c.requests = c.requests.filter((r) => now - r.at <= 4 * REQUEST_TTL_MS || isLive(r, now));
  for (const r of c.requests) if (!isLive(r, now)) r.stale = true;
  return c.requests.filter((r) => !r.stale);
}

/** The direction of the history request in flight (`older`, `newer`, `latest`), or null. Changes nothing. */
export function loading(c, now = Date.now()) {
  const live = c.requests.find((r) => isLive(r, now));
  return live ? live.dir : null;
}

function ask(c, dir, anchor, now) {
  const id = c.nextRequestId++;
  c.requests.push({ id, dir, before: anchor.before ?? null, after: anchor.after ?? null, at: now, stale: false });
  c.historyAsked = true;
  c.rev++;
  return [{ type: 'history', room: c.key, before: anchor.before ?? null, after: anchor.after ?? null, id }];
}

/** Asks for the page before the window (the newest page when the window is empty); one request at a time. */
export function requestOlder(c, now = Date.now()) {
  if (liveRequests(c, now).length) return [];
  if (!c.msgs.length) return ask(c, 'latest', {}, now);
  if (!c.hasMore) return [];
  return ask(c, 'older', { before: oldestSeq(c) }, now);
}

/** Asks for the page after the window, when newer messages exist; one request at a time. */
export function requestNewer(c, now = Date.now()) {
  if (liveRequests(c, now).length || atNewest(c)) return [];
  return ask(c, 'newer', { after: newestSeq(c) }, now);
}

/** Asks for the newest page (the first one, or again after the window was emptied). */
export function requestLatest(c, now = Date.now()) {
  const live = liveRequests(c, now);
  if (live.some((r) => r.dir === 'latest')) return [];
  for (const r of live) r.stale = true;
  return ask(c, 'latest', {}, now);
}

/** Empties a window that is not at the newest and asks for the newest page; nothing when it is at the newest. */
export function jumpToLatest(c, now = Date.now()) {
  if (atNewest(c)) return [];
  c.msgs = [];
  c.bySeq.clear();
  c.hasMore = false;
  return requestLatest(c, now);
}

/** How many messages after a searched-for one the page loaded around it holds, so it is not the last line. */
export const AROUND_AFTER = 10;

/**
 * Shows message `seq` (a search result): nothing to load when the window holds it; otherwise the window is emptied
 * and the page ending a few messages after it is loaded (`history { before }`, answered as any jump is). Scrolling
 * then pages older and newer messages in as usual.
 */
export function jumpToSeq(c, seq, now = Date.now()) {
  if (c.bySeq.has(seq)) return [];
  c.msgs = [];
  c.bySeq.clear();
  c.hasMore = false;
  for (const r of liveRequests(c, now)) r.stale = true;
  return ask(c, 'around', { before: seq + AROUND_AFTER + 1 }, now);
}

/** A history request could not be made (the bridge refused it): forget it. */
export function historyFailed(c, id) {
  const before = c.requests.length;
  c.requests = c.requests.filter((r) => r.id !== id);
  if (c.requests.length === before) return;
  if (!c.msgs.length) c.historyAsked = false; // So that the next `joined` asks again.
  c.rev++;
}

/** The server refused the oldest history request (or the connection dropped): forget it, or all of them. */
export function abandonRequests(c, all = true) {
  if (!c.requests.length) return;
  if (all) c.requests = [];
  else c.requests.shift();
  if (!c.msgs.length) c.historyAsked = false;
  c.rev++;
}

/** Whether a reply whose messages run from `first` to `last` (none: 0, 0) can answer request `r`. */
function fits(r, first, last) {
  if (!last) return true;
  if (r.dir === 'older') return first < r.before;
  if (r.dir === 'newer') return last > r.after;
  if (r.dir === 'around') return last < r.before;
  return true;
}

/**
 * Adds `m` in seq order; returns the stored message, or null when that seq is held already (then a newer copy, such
 * as a page read after a vote, replaces the one held).
 */
function insertMessage(c, m) {
  const held = c.bySeq.get(m.seq);
  if (held) {
    if (refresh(held, m, { strict: true })) c.rev++;
    return null;
  }
  const msg = storedMessage(c.key, m);
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
  return msg;
}

/** Drops the oldest messages beyond `max` (and the notices before what remains); older ones exist then. */
function dropOldest(c, max = WINDOW) {
  if (c.msgs.length <= max) return false;
  const dropped = c.msgs.splice(0, c.msgs.length - max);
  for (const m of dropped) c.bySeq.delete(m.seq);
  const oldest = oldestSeq(c);
  c.notices = c.notices.filter((n) => n.afterSeq >= oldest);
  c.hasMore = true;
  c.rev++;
  return true;
}

/** Drops the newest messages beyond `max`; the window is then no longer at the newest. */
function dropNewest(c, max = WINDOW) {
  if (c.msgs.length <= max) return false;
  const dropped = c.msgs.splice(max);
  for (const m of dropped) c.bySeq.delete(m.seq);
  c.rev++;
  return true;
}

/**
 * Applies a `history` reply to the request it answers. A page that touches the window is merged into it; any other
 * page replaces the window (it answers a jump, or a shell that ignored `after` and sent the newest page). Then the
 * window is cut back to WINDOW on the side away from the page. Returns the messages added, or null when the reply
 * answers nothing current (a stale or unknown request).
 */
export function applyPage(c, page, now = Date.now()) {
  const msgs = (Array.isArray(page.messages) ? page.messages : [])
    .filter((m) => m && Number.isSafeInteger(m.seq) && m.seq > 0)
    .sort((a, b) => a.seq - b.seq);
  const first = msgs.length ? msgs[0].seq : 0;
  const last = msgs.length ? msgs[msgs.length - 1].seq : 0;
  liveRequests(c, now);
  const i = c.requests.findIndex((r) => fits(r, first, last));
  if (i < 0) return null;
  const req = c.requests.splice(0, i + 1).pop(); // Requests before it got no answer: they were lost.
  c.historyAsked = true;
  c.rev++;
  if (req.stale) return null;

  if (!msgs.length) {
    if (req.dir === 'newer') c.lastSeq = newestSeq(c); // Nothing after the window: it is the newest.
    else c.hasMore = false;
    return [];
  }
  const lo = oldestSeq(c);
  const hi = newestSeq(c);
  const touches = c.msgs.length > 0 && first <= hi + 1 && last >= lo - 1;
  if (!touches) {
    c.msgs = [];
    c.bySeq.clear();
    c.notices = c.notices.filter((n) => n.afterSeq >= first - 1);
    c.hasMore = req.dir === 'newer' ? first > 1 : Boolean(page.has_more);
  } else if (first < lo) {
    c.hasMore = req.dir === 'newer' ? first > 1 : Boolean(page.has_more);
  }
  const added = [];
  for (const m of msgs) {
    const msg = insertMessage(c, m);
    if (msg) added.push(msg);
  }
  if (req.dir === 'older') dropNewest(c);
  else dropOldest(c);
  return added;
}

/**
 * A live message (or the ack of the user's own). It joins the window only when it extends it; otherwise (the window
 * is elsewhere in the history, or `keepOldest` and the window is full) it is only counted as existing. `keepOldest`:
 * the user reads older messages of this window, so none may be dropped under them. Returns `inserted`, `duplicate`
 * or `skipped`.
 */
export function addLive(c, m, { keepOldest = false } = {}) {
  const held = c.bySeq.get(m.seq);
  if (held) {
    // The server's own copy of a message the UI built from its ack (or a newer copy) replaces the one held.
    if (refresh(held, m, { strict: true })) c.rev++;
    return 'duplicate';
  }
  const lo = oldestSeq(c);
  const hi = newestSeq(c);
  const extendsWindow = !c.msgs.length || (m.seq >= lo - 1 && m.seq <= hi + 1);
  const full = keepOldest && c.msgs.length >= WINDOW && m.seq > hi;
  if (!extendsWindow || full) {
    if (m.seq > c.lastSeq) c.lastSeq = m.seq;
    c.rev++; // The view shows how many newer messages exist.
    return 'skipped';
  }
  insertMessage(c, m);
  if (!keepOldest) dropOldest(c);
  return 'inserted';
}

/**
 * A `message_updated` (PROTOCOL.md §7.22): the message as it is now replaces the copy held, unless that copy is
 * newer (a later `rev`). A message outside the window is not shown, so there is nothing to update. Returns whether
 * the window changed.
 */
export function applyUpdate(c, m) {
  const held = Number.isSafeInteger(m.seq) ? c.bySeq.get(m.seq) : undefined;
  if (!held || !refresh(held, m)) return false;
  c.rev++;
  return true;
}

/**
 * Forgets the messages held and asks for the newest page again, keeping the notices: after a resume whose changes
 * did not all fit (`joined.updates_dropped`), what the window shows may be out of date.
 */
export function reloadWindow(c, now = Date.now()) {
  c.msgs = [];
  c.bySeq.clear();
  c.hasMore = false;
  return requestLatest(c, now);
}

/** Adds a join/leave/topic/error line after the newest message known now. */
export function addNotice(c, notice) {
  c.notices.push({ ...notice, afterSeq: c.lastSeq });
  if (c.notices.length > MAX_NOTICES) c.notices.splice(0, c.notices.length - MAX_NOTICES);
  c.rev++;
}

/** Forgets every message and notice (the server's copy was reset); the newest page is asked for again. */
export function resetWindow(c) {
  c.msgs = [];
  c.bySeq.clear();
  c.notices = [];
  c.hasMore = false;
  c.historyAsked = false;
  for (const r of c.requests) r.stale = true;
  c.rev++;
}

/** Drops the messages before `keepFrom` (the server will not replay a gap before it); older ones exist. */
export function dropBefore(c, keepFrom) {
  const dropped = c.msgs.filter((m) => m.seq < keepFrom);
  if (dropped.length) {
    c.msgs = c.msgs.filter((m) => m.seq >= keepFrom);
    for (const m of dropped) c.bySeq.delete(m.seq);
    c.notices = c.notices.filter((n) => n.afterSeq >= keepFrom - 1);
  }
  c.hasMore = true;
  c.rev++;
}
