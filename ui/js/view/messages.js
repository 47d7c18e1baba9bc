// The message list (`#messages`): messages, pending sends, join/leave notices and day dividers, kept in sync with
// the conversation's window by key, so that new messages append, pages prepend or append, rows dropped at the far
// end of the window go away, and the reading position stays put (anchored on a row that stays).

import { mentions } from '../names.js';
import { atNewest, newerCount, loading } from '../conversation.js';
import { timeline } from '../selectors.js';
import { el, hue, initial, reconcile, setText, show, attr } from './dom.js';

/** Consecutive messages from one sender within this many ms are grouped under one name. */
const GROUP_MS = 5 * 60 * 1000;
/** How close to the bottom (px) still counts as "reading the newest". */
const BOTTOM_SLACK = 48;
/** Within this many px (at least one screenful) of either end of the list, the next page is asked for. */
const PAGE_AHEAD_PX = 600;

const pad = (n) => String(n).padStart(2, '0');

/** Local time as HH:MM. */
export function clock(ts) {
  const d = new Date(ts);
  return `${pad(d.getHours())}:${pad(d.getMinutes())}`;
}

// Made once: `toLocaleString` with options builds a formatter on every call, which is slow enough to matter for a
// page of 50 new rows.
const FULL_DATE = new Intl.DateTimeFormat(undefined, { dateStyle: 'full', timeStyle: 'medium' });
const DAY = new Intl.DateTimeFormat(undefined, { weekday: 'long', day: 'numeric', month: 'long', year: 'numeric' });

function fullDate(ts) {
  return FULL_DATE.format(ts);
}

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
  return el(
    'li',
    { class: 'message' },
    el('span', { class: 'avatar', 'aria-hidden': 'true' }),
    el(
      'div',
      { class: 'body' },
      el('div', { class: 'meta' }, el('span', { class: 'from' }), ' ', el('time', { class: 'time' })),
      el('div', { class: 'text' }),
      el('div', { class: 'status' }),
    ),
  );
}

/** Brings one row's element up to date; cheap when nothing changed (signature check). */
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
  const m = row.msg;
  const pending = row.kind === 'pending';
  const mention = !pending && !sameNick(m.from, ctx.me) && mentions(m.text, ctx.me);
  const sig = [row.kind, m.seq, m.client_id, row.from, m.text, m.ts, row.continued, mention, row.error, pending && ctx.online].join('\u0000');
  if (node._sig === sig) return;
  node._sig = sig;

  node.className = 'message';
  node.classList.toggle('pending', pending);
  node.classList.toggle('failed', Boolean(row.error));
  node.classList.toggle('continued', row.continued);
  node.classList.toggle('mention', mention);
  node.classList.toggle('own', sameNick(row.from, ctx.me));
  attr(node, 'data-seq', pending ? null : m.seq);
  attr(node, 'data-client-id', m.client_id || null);

  const [avatar, body] = node.children;
  const [meta, text, status] = body.children;
  const [from, time] = meta.querySelectorAll('.from, .time');
  avatar.className = `avatar c${hue(row.from)}`;
  setText(avatar, initial(row.from));
  from.className = `from c${hue(row.from)}`;
  setText(from, row.from);
  setText(time, clock(m.ts));
  time.dateTime = new Date(m.ts).toISOString();
  time.title = fullDate(m.ts);
  setText(text, m.text);

  status.replaceChildren();
  if (row.error) {
    status.append(
      el('span', { text: `Not sent: ${row.error}` }),
      ' ',
      el('button', { type: 'button', class: 'link dismiss-btn', dataset: { clientId: m.client_id }, text: 'Dismiss' }),
    );
  } else if (pending) {
    status.append(el('span', { text: ctx.online ? 'Sending…' : 'Waiting for the connection — it will go out when we are back.' }));
  }
  show(status, Boolean(status.firstChild));
}

function sameNick(a, b) {
  return String(a).toLowerCase() === String(b).toLowerCase();
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
  /** Whether the window drawn last reaches the newest message (then the bottom of the list is "the newest"). */
  let shownNewest = true;
  /** Scroll to the bottom once the newest messages are drawn (after "Jump to latest" or a send). */
  let wantBottom = false;
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

  /** Draws conversation `c` (or nothing); `force` redraws even when its revision did not change. */
  function render(state, c, { force = false, stickToBottom = false } = {}) {
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
    if (switched) wantBottom = false;
    if (!switched && !force && c.rev === shownRev && online === shownOnline) return;
    const newest = atNewest(c);
    // The bottom of the list is "the newest messages" only when the window reaches them, before and after.
    const stick = switched || stickToBottom || wantBottom || ((pinned || atBottom()) && shownNewest && newest);
    const keep = !stick && anchor();
    const lastBefore = els.list.lastElementChild && els.list.lastElementChild.dataset.key;

    if (switched) els.list.replaceChildren();
    const ctx = { me: state.me, online, now: Date.now() };
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
    setText(els.empty, busy || !c.historyAsked ? 'Loading messages…' : 'No messages yet. Say hello!');

    shownNewest = newest;
    if (stick) {
      scrollToBottom();
      if (newest && (c.msgs.length || !busy)) wantBottom = false;
    } else if (keep && keep.node.isConnected) {
      const top = els.scroller.getBoundingClientRect().top;
      els.scroller.scrollTop += keep.node.getBoundingClientRect().top - top - keep.offset;
    }
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
  }

  return { render, scrollToBottom, followLatest, atBottom };
}
