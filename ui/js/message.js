// One stored message as the UI keeps it (PROTOCOL.md §7.4), and how a newer copy of it replaces the one held: a
// `message_updated` (a vote, a reaction, an edit, a deletion, a closed poll, an acknowledged announcement; §7.22), a
// history page read after the change, or the server's own copy of a message the UI had built from its `ack`. Pure:
// no DOM.
//
// The server's fields are copied through checks, so that the view can trust their shapes: a malformed `poll` or
// `reactions` is dropped rather than half drawn. `rev` orders the copies of one message: an older one never
// replaces a newer one (the only rule §7.22 sets for clients).

import { sameNick } from './names.js';

/** Replies quote at most this much of the answered message (the server cuts it there too). */
export const QUOTE_CHARS = 140;

const str = (v) => (typeof v === 'string' ? v : '');
const nicks = (v) => (Array.isArray(v) ? v.filter((n) => typeof n === 'string') : []);

/** `{ options: [{ text, voters }], multiple, closed }`, or null when `p` is not a poll. */
export function pollOf(p) {
  if (!p || typeof p !== 'object' || !Array.isArray(p.options)) return null;
  const options = p.options
    .filter((o) => o && typeof o === 'object')
    .map((o) => ({ text: str(o.text), voters: nicks(o.voters) }));
  if (!options.length) return null;
  return { options, multiple: p.multiple === true, closed: p.closed === true };
}

/** `[{ emoji, by }]`, first first, without empty ones. */
export function reactionsOf(r) {
  if (!Array.isArray(r)) return [];
  return r
    .filter((x) => x && typeof x === 'object' && typeof x.emoji === 'string' && x.emoji)
    .map((x) => ({ emoji: x.emoji, by: nicks(x.by) }))
    .filter((x) => x.by.length > 0);
}

/** An announcement's mark, `{ acks: [nick…] }` (who said "I've read it", first first), or null. */
export function announcementOf(a) {
  if (!a || typeof a !== 'object') return null;
  return { acks: nicks(a.acks) };
}

/** The quote a reply carries, `{ seq, from, text }`, or null. */
export function quoteOf(q) {
  if (!q || typeof q !== 'object' || !Number.isSafeInteger(q.seq)) return null;
  return { seq: q.seq, from: str(q.from), text: str(q.text) };
}

/** The revision of a copy: 0 for a message never changed. */
export function revOf(m) {
  return m && Number.isSafeInteger(m.rev) && m.rev > 0 ? m.rev : 0;
}

/** Copies the changeable fields of the server's copy `m` onto `msg`. */
function assign(msg, m) {
  msg.deleted = m.deleted === true;
  msg.text = msg.deleted ? '' : str(m.text);
  msg.poll = msg.deleted ? null : pollOf(m.poll);
  msg.reactions = msg.deleted ? [] : reactionsOf(m.reactions);
  msg.reply_to = msg.deleted ? null : quoteOf(m.reply_to);
  msg.announcement = msg.deleted ? null : announcementOf(m.announcement);
  msg.edited_ms = Number.isSafeInteger(m.edited_ms) && m.edited_ms > 0 ? m.edited_ms : 0;
  msg.rev = revOf(m);
  /** Built by the UI from an `ack`, not received: any copy from the server is better. */
  msg.local = m.local === true;
  /** Bumped on every change, so the view redraws the row. */
  msg.v = (msg.v || 0) + 1;
}

/** The message to keep for the server's copy `m` in conversation `room`. */
export function storedMessage(room, m) {
  const msg = { room, seq: m.seq, id: m.id, from: m.from, ts: m.ts, client_id: m.client_id };
  assign(msg, m);
  return msg;
}

/**
 * Replaces `held` with the copy `m` when `m` is not older (`strict`: only when it is newer, for copies that may
 * simply repeat the one held, such as a history page). Returns whether anything was replaced.
 */
export function refresh(held, m, { strict = false } = {}) {
  if (!held.local) {
    const rev = revOf(m);
    if (rev < held.rev || (strict && rev === held.rev)) return false;
  }
  assign(held, m);
  return true;
}

/** Whether `msg` was sent by `me` (nicknames compare case-insensitively). */
export function isMine(msg, me) {
  return Boolean(me) && sameNick(msg.from, me);
}

/** Only the sender edits a message, and not once it is deleted. */
export function canEdit(msg, me) {
  return !msg.deleted && isMine(msg, me);
}

/** The sender deletes a message, and a moderator anyone's. */
export function canDelete(msg, me, moderating) {
  return !msg.deleted && (isMine(msg, me) || Boolean(moderating));
}

/** The quote a reply to `msg` shows before the server has stored it (cut like the server's). */
export function quoteFor(msg) {
  return { seq: msg.seq, from: msg.from, text: [...str(msg.text)].slice(0, QUOTE_CHARS).join('') };
}
