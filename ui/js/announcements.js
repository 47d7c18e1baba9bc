// Announcements (PROTOCOL.md §6.24): a moderator's message each participant confirms with "I've read it". Who has
// confirmed travels in the message (`announcement.acks`); who has not is worked out here from the room's members, so
// someone who comes online later shows up as "not yet" without the message changing. Pure: no DOM.

import { sameNick } from './names.js';

const has = (list, nick) => list.some((n) => sameNick(n, nick));

/** Whether `me` has said "I've read it" to announcement `msg` (nicknames compare case-insensitively). */
export function hasAcknowledged(msg, me) {
  return Boolean(msg.announcement) && has(msg.announcement.acks, me);
}

/** Whether `me` is asked to confirm `msg`: an announcement someone else sent that `me` has not confirmed yet. */
export function canAcknowledge(msg, me) {
  return Boolean(msg.announcement) && !msg.deleted && Boolean(me) && !sameNick(msg.from, me) && !hasAcknowledged(msg, me);
}

/**
 * The tally of announcement `msg` in a room whose members online are `members`: `read` (who confirmed, the sender
 * aside), `missing` (members who have not, the sender aside, in the members' order) and `total` (everyone expected
 * to read it: those who confirmed, online or not, and those still missing).
 */
export function ackTally(msg, members) {
  const acks = msg.announcement ? msg.announcement.acks : [];
  const read = acks.filter((n) => !sameNick(n, msg.from));
  const missing = [];
  for (const nick of members) {
    if (!sameNick(nick, msg.from) && !has(read, nick) && !has(missing, nick)) missing.push(nick);
  }
  return { read, missing, total: read.length + missing.length };
}

/** "2 of 5 have read it", "Nobody else is here yet" (the sender alone in the room). */
export function tallyText(tally) {
  if (!tally.total) return 'Nobody else is here yet';
  if (tally.read.length === tally.total) return tally.total === 1 ? 'Read by the only other person here' : `All ${tally.total} have read it`;
  return `${tally.read.length} of ${tally.total} have read it`;
}

/** "Not yet: bo, cy": who has not confirmed, for the sender and moderators. Empty when nobody is missing. */
export function missingText(tally) {
  return tally.missing.length ? `Not yet: ${tally.missing.join(', ')}` : '';
}

/** Who sees who has not read it: the sender, and moderators. */
export function seesMissing(msg, me, moderating) {
  return Boolean(moderating) || (Boolean(me) && sameNick(msg.from, me));
}
