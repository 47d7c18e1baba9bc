// The message list (`#messages`): messages, pending sends, join/leave notices and day dividers, kept in sync with
// the state by key so that new messages append, older pages prepend and the reading position stays put.

import { mentions } from '../state.js';
import { timeline } from '../selectors.js';
import { el, hue, initial, reconcile, setText, show, attr } from './dom.js';

/** Consecutive messages from one sender within this many ms are grouped under one name. */
const GROUP_MS = 5 * 60 * 1000;
/** How close to the bottom (px) still counts as "reading the newest". */
const BOTTOM_SLACK = 48;

const pad = (n) => String(n).padStart(2, '0');

/** Local time as HH:MM. */
export function clock(ts) {
  const d = new Date(ts);
  return `${pad(d.getHours())}:${pad(d.getMinutes())}`;
}

function fullDate(ts) {
  return new Date(ts).toLocaleString(undefined, { dateStyle: 'full', timeStyle: 'medium' });
}

function dayKey(ts) {
  const d = new Date(ts);
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())}`;
}

function dayLabel(ts, now = Date.now()) {
  const key = dayKey(ts);
  if (key === dayKey(now)) return 'Today';
  if (key === dayKey(now - 86400000)) return 'Yesterday';
  return new Date(ts).toLocaleDateString(undefined, { weekday: 'long', day: 'numeric', month: 'long', year: 'numeric' });
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
 * `onScroll(atBottom)` reports whether the user reads the newest messages.
 */
export function createMessageView(els, { onScroll }) {
  let shownKey = null;
  let shownRev = -1;
  let shownOnline = null;

  const atBottom = () => els.scroller.scrollHeight - els.scroller.scrollTop - els.scroller.clientHeight < BOTTOM_SLACK;

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
    if (bottom) show(els.jumpBtn, false);
    onScroll(bottom);
  }, { passive: true });

  /** The first row visible at the top, and its offset, to keep the reading position when rows are prepended. */
  function anchor() {
    const top = els.scroller.getBoundingClientRect().top;
    for (const child of els.list.children) {
      const r = child.getBoundingClientRect();
      if (r.bottom > top) return { node: child, offset: r.top - top };
    }
    return null;
  }

  function scrollToBottom() {
    pinned = true;
    els.scroller.scrollTop = els.scroller.scrollHeight;
    show(els.jumpBtn, false);
  }

  /** Draws conversation `c` (or nothing); `force` redraws even when its revision did not change. */
  function render(state, c, { force = false, stickToBottom = false } = {}) {
    const online = state.conn.state === 'online';
    if (!c) {
      els.list.replaceChildren();
      shownKey = null;
      show(els.olderBtn, false);
      show(els.start, false);
      show(els.empty, false);
      return;
    }
    const switched = c.key !== shownKey;
    if (!switched && !force && c.rev === shownRev && online === shownOnline) return;
    const wasBottom = switched || stickToBottom || pinned || atBottom();
    const keep = !wasBottom && anchor();
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

    const loading = c.historyInflight > 0;
    show(els.olderBtn, c.hasMore && c.msgs.length > 0);
    els.olderBtn.disabled = loading;
    setText(els.olderBtn, loading ? 'Loading…' : 'Load older messages');
    const begun = c.historyAsked && !c.hasMore && !loading;
    show(els.start, begun && c.msgs.length > 0);
    show(els.empty, c.msgs.length === 0 && c.pending.size === 0);
    setText(els.empty, loading || !c.historyAsked ? 'Loading messages…' : 'No messages yet. Say hello!');

    if (wasBottom) {
      scrollToBottom();
    } else if (keep && keep.node.isConnected) {
      const top = els.scroller.getBoundingClientRect().top;
      els.scroller.scrollTop += keep.node.getBoundingClientRect().top - top - keep.offset;
      const lastAfter = els.list.lastElementChild && els.list.lastElementChild.dataset.key;
      if (!switched && lastAfter !== lastBefore) show(els.jumpBtn, true);
    }
    shownKey = c.key;
    shownRev = c.rev;
    shownOnline = online;
  }

  return { render, scrollToBottom, atBottom };
}
