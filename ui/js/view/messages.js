// The message list (`#messages`): messages, pending sends, join/leave notices and day dividers, kept in sync with
// the conversation's window by key, so that new messages append, pages prepend or append, rows dropped at the far
// end of the window go away, and the reading position stays put (anchored on a row that stays). One message's element
// is message-row.js's; this view also remembers which message's editing box or reaction picker is open.

import { atNewest, newerCount, loading } from '../conversation.js';
import { timeline } from '../selectors.js';
import { el, reconcile, setText, show } from './dom.js';
import { createMessageRow, updateMessageRow, fullDate } from './message-row.js';

/** Consecutive messages from one sender within this many ms are grouped under one name. */
const GROUP_MS = 5 * 60 * 1000;
/** How close to the bottom (px) still counts as "reading the newest". */
const BOTTOM_SLACK = 48;
/** Within this many px (at least one screenful) of either end of the list, the next page is asked for. */
const PAGE_AHEAD_PX = 600;

const pad = (n) => String(n).padStart(2, '0');

// Made once: `toLocaleString` with options builds a formatter on every call, which is slow enough to matter for a
// page of 50 new rows.
const DAY = new Intl.DateTimeFormat(undefined, { weekday: 'long', day: 'numeric', month: 'long', year: 'numeric' });

function dayKey(ts) {
  const d = new Date(ts);
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())}`;
}

function dayLabel(ts, now = Date.now()) {
  const key = dayKey(ts);
  if (key === dayKey(now)) return 'Today';
  if (key === dayKey(now - 86400000)) return 'Yesterday';
  return DAY.format(ts);
}

/** The rows to draw: the state's timeline with day dividers and grouping worked out. */
function rows(state, c) {
  const out = [];
  let lastDay = '';
  let prev = null; // The previous message row, for grouping.
  const seenDays = new Set();
  for (const item of timeline(c)) {
    if (item.kind === 'notice') {
      out.push(item);
      prev = null;
      continue;
    }
    const ts = item.msg.ts;
    const day = dayKey(ts);
    if (day !== lastDay) {
      lastDay = day;
      let key = `d:${day}`;
      while (seenDays.has(key)) key += '+';
      seenDays.add(key);
      out.push({ kind: 'day', key, ts });
      prev = null;
    }
    const from = item.kind === 'pending' ? state.me : item.msg.from;
    const continued = Boolean(
      prev && prev.from.toLowerCase() === String(from).toLowerCase() && ts - prev.ts < GROUP_MS && !prev.error,
    );
    const row = { ...item, from, continued, error: item.kind === 'pending' ? item.msg.error : '' };
    out.push(row);
    prev = { from: String(from), ts, error: row.error };
  }
  return out;
}

function createRow(row) {
  if (row.kind === 'day') return el('li', { class: 'day-divider', role: 'separator' }, el('span'));
  if (row.kind === 'notice') return el('li', { class: 'notice' }, el('span', { class: 'notice-text' }));
  return createMessageRow();
}

/** Brings one row's element up to date. */
function updateRow(node, row, ctx) {
  if (row.kind === 'day') {
    setText(node.firstChild, dayLabel(row.ts, ctx.now));
    return;
  }
  if (row.kind === 'notice') {
    node.className = `notice notice-${row.notice.kind}`;
    setText(node.firstChild, row.notice.text);
    node.title = fullDate(row.notice.ts);
    return;
  }
  updateMessageRow(node, row, ctx);
}

/**
 * Owns the message list of the conversation on screen. `els`: `{ scroller, list, olderBtn, start, empty, jumpBtn }`.
 * `onScroll({ atBottom, nearTop, nearBottom })` reports where the reader is: at the bottom of the list, or close
 * enough to either end that the next page should be loaded.
 */
export function createMessageView(els, { onScroll }) {
  let shownKey = null;
  let shownRev = -1;
  let shownOnline = null;
  let shownModerating = null;
  /** Who was online and which message was pinned at the last drawing: announcements and the Pin button show them. */
  let shownMembers = '';
  let shownPinned = null;
  /** The message (seq) whose editing box, or whose reaction picker, is open; both close with the conversation. */
  let editing = null;
  let picker = null;
  /** Something only the view knows changed (editing, picker): redraw even if the conversation did not. */
  let dirty = false;
  /** Whether the window drawn last reaches the newest message (then the bottom of the list is "the newest"). */
  let shownNewest = true;
  /** Scroll to the bottom once the newest messages are drawn (after "Jump to latest" or a send). */
  let wantBottom = false;
  /** A message to scroll to and highlight as soon as it is drawn (a search result), or null. */
  let revealing = null;
  const jumpLabel = els.jumpBtn.querySelector('.jump-label') || els.jumpBtn;

  const fromBottom = () => els.scroller.scrollHeight - els.scroller.scrollTop - els.scroller.clientHeight;
  const atBottom = () => fromBottom() < BOTTOM_SLACK;

  // The list keeps showing the newest messages when its box shrinks or grows (banner, composer, window size).
  let pinned = true;
  if (typeof ResizeObserver === 'function') {
    new ResizeObserver(() => {
      if (pinned) els.scroller.scrollTop = els.scroller.scrollHeight;
    }).observe(els.scroller);
  }

  els.scroller.addEventListener('scroll', () => {
    const bottom = atBottom();
    pinned = bottom;
    if (bottom && shownNewest) show(els.jumpBtn, false);
    const ahead = Math.max(PAGE_AHEAD_PX, els.scroller.clientHeight);
    onScroll({ atBottom: bottom, nearTop: els.scroller.scrollTop < ahead, nearBottom: fromBottom() < ahead });
  }, { passive: true });

  /**
   * The first message or notice visible at the top, and its offset, to keep the reading position when rows are added
   * or dropped above or below it. Day dividers are skipped: one moves up when older messages of its day arrive.
   */
  function anchor() {
    const top = els.scroller.getBoundingClientRect().top;
    for (const child of els.list.children) {
      if (child.classList.contains('day-divider')) continue;
      const r = child.getBoundingClientRect();
      if (r.bottom > top) return { node: child, offset: r.top - top };
    }
    return null;
  }

  function scrollToBottom() {
    pinned = true;
    els.scroller.scrollTop = els.scroller.scrollHeight;
    if (shownNewest) show(els.jumpBtn, false);
  }

  /** Shows the newest messages: at once when drawn, else as soon as they are (the caller asked for them). */
  function followLatest() {
    wantBottom = true;
    scrollToBottom();
  }

  /**
   * Draws conversation `c` (or nothing); `force` redraws even when its revision did not change. `moderator`: the
   * moderator's controls apply (the bridge can moderate and the server said `moderating`).
   */
  function render(state, c, { force = false, stickToBottom = false, moderator = state.moderating } = {}) {
    const online = state.conn.state === 'online';
    if (!c) {
      els.list.replaceChildren();
      shownKey = null;
      wantBottom = false;
      show(els.olderBtn, false);
      show(els.start, false);
      show(els.empty, false);
      show(els.jumpBtn, false);
      return;
    }
    const switched = c.key !== shownKey;
    if (switched) {
      wantBottom = false;
      editing = null;
      picker = null;
      revealing = null;
    }
    const membersKey = c.members.join('\u0000').toLowerCase();
    const pin = state.pinned.get(c.key);
    const pinnedSeq = pin ? pin.seq : null;
    const same = c.rev === shownRev && online === shownOnline && moderator === shownModerating &&
      membersKey === shownMembers && pinnedSeq === shownPinned;
    if (!switched && !force && !dirty && same) return;
    dirty = false;
    const newest = atNewest(c);
    // The bottom of the list is "the newest messages" only when the window reaches them, before and after.
    const stick = switched || stickToBottom || wantBottom || ((pinned || atBottom()) && shownNewest && newest);
    const keep = !stick && anchor();
    const lastBefore = els.list.lastElementChild && els.list.lastElementChild.dataset.key;

    if (switched) els.list.replaceChildren();
    const ctx = {
      me: state.me, online, now: Date.now(), moderating: moderator, editing, picker, members: c.members, membersKey, pinnedSeq,
      // Only a room has a pinned message.
      canPin: moderator && !c.dm,
    };
    // A pending message that got its ack keeps its element: rename it to the message's key.
    const byKey = new Map([...els.list.children].map((n) => [n.dataset.key, n]));
    for (const m of c.msgs.slice(-50)) {
      const old = m.client_id && byKey.get(`p:${m.client_id}`);
      if (old && !byKey.has(`m:${m.seq}`)) old.dataset.key = `m:${m.seq}`;
    }
    els.list.setAttribute('aria-busy', 'true');
    reconcile(els.list, rows(state, c), { key: (r) => r.key, create: createRow, update: (n, r) => updateRow(n, r, ctx) });
    els.list.setAttribute('aria-busy', 'false');

    const busy = loading(c);
    show(els.olderBtn, c.hasMore && c.msgs.length > 0);
    els.olderBtn.disabled = Boolean(busy); // One page at a time.
    setText(els.olderBtn, busy === 'older' ? 'Loading…' : 'Load older messages');
    show(els.start, c.historyAsked && !c.hasMore && !busy && c.msgs.length > 0);
    show(els.empty, c.msgs.length === 0 && c.pending.size === 0);
    // A room not entered (its password was not given, the join was refused) has nothing loading.
    const outside = !c.dm && !c.joined && !c.joining && !busy;
    setText(els.empty, outside ? 'You are not in this room. Pick it under Rooms to enter.'
      : busy || !c.historyAsked ? 'Loading messages…' : 'No messages yet. Say hello!');

    shownNewest = newest;
    if (stick) {
      scrollToBottom();
      if (newest && (c.msgs.length || !busy)) wantBottom = false;
    } else if (keep && keep.node.isConnected) {
      const top = els.scroller.getBoundingClientRect().top;
      els.scroller.scrollTop += keep.node.getBoundingClientRect().top - top - keep.offset;
    }
    if (revealing !== null) revealRow();
    const lastAfter = els.list.lastElementChild && els.list.lastElementChild.dataset.key;
    if (!newest) {
      const n = newerCount(c);
      setText(jumpLabel, `Jump to latest (${n > 999 ? '999+' : n} newer)`);
      show(els.jumpBtn, true);
    } else if (!stick && !switched && lastAfter !== lastBefore) {
      setText(jumpLabel, 'New messages');
      show(els.jumpBtn, true);
    } else if (stick) {
      show(els.jumpBtn, false);
    }
    shownKey = c.key;
    shownRev = c.rev;
    shownOnline = online;
    shownModerating = moderator;
    shownMembers = membersKey;
    shownPinned = pinnedSeq;
  }

  /** Scrolls the message being revealed to the middle and highlights it briefly, once it is in the list. */
  function revealRow() {
    const row = els.list.querySelector(`li.message[data-seq="${revealing}"]`);
    if (!row) return;
    revealing = null;
    pinned = false; // The reader is here now, not at the newest messages.
    row.scrollIntoView({ block: 'center' });
    row.classList.add('flash');
    setTimeout(() => row.classList.remove('flash'), 2000);
    // Where the reader now is decides which pages come next, as after any scroll; a short page that fills no
    // screen would otherwise never be scrolled, and never extended.
    setTimeout(() => els.scroller.dispatchEvent(new Event('scroll')), 0);
  }

  /** Shows message `seq` as soon as the list holds it (now, or when the page asked for arrives); the caller redraws. */
  function reveal(seq) {
    revealing = seq;
    dirty = true;
  }

  /** Opens the editing box of message `seq` (null closes it); the caller redraws. */
  function setEditing(seq) {
    editing = seq;
    dirty = true;
  }

  /** Opens the reaction picker of message `seq` (null closes it); the caller redraws. */
  function setPicker(seq) {
    picker = seq;
    dirty = true;
  }

  return {
    render, scrollToBottom, followLatest, atBottom, setEditing, setPicker, reveal,
    get editing() {
      return editing;
    },
    get picker() {
      return picker;
    },
  };
}
