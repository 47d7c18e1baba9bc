// Polls (PROTOCOL.md §6.8 `poll`, §6.19): the checks on the "New poll" form, the results a poll's bar chart shows,
// and what a click on an option votes. Pure: no DOM, so Node tests them.

import { sameNick } from './names.js';

/** The server's rules for a poll's options (PROTOCOL.md §6.8). */
export const MIN_OPTIONS = 2;
export const MAX_OPTIONS = 10;
export const MAX_OPTION_CHARS = 100;

const chars = (s) => [...s].length;
const fold = (s) => s.trim().toLowerCase();

/**
 * Checks the form's values before anything is sent, with the server's rules, so the user learns what to fix at once
 * rather than from an `invalid_poll`. Blank option fields are left out (the form starts with spare ones). Returns
 * `{ poll: { question, options, multiple } }` (trimmed, ready for `sendPoll`) or `{ error, field }`: what to say and
 * which field to focus (`question`, or the option's index among the fields).
 */
export function checkPoll({ question, options, multiple }, maxTextChars = 4000) {
  const q = String(question ?? '').trim();
  if (!q) return { error: 'Write the question first.', field: 'question' };
  if (chars(q) > maxTextChars) {
    return { error: `The question has ${chars(q)} characters; the limit is ${maxTextChars}.`, field: 'question' };
  }
  const kept = [];
  const seen = new Map();
  const fields = Array.isArray(options) ? options : [];
  for (let i = 0; i < fields.length; i++) {
    const text = String(fields[i] ?? '').trim();
    if (!text) continue;
    if (/[\r\n]/.test(text)) return { error: `Option ${kept.length + 1} must fit on one line.`, field: i };
    if (chars(text) > MAX_OPTION_CHARS) {
      return {
        error: `Option ${kept.length + 1} has ${chars(text)} characters; keep each option to ${MAX_OPTION_CHARS}.`,
        field: i,
      };
    }
    if (seen.has(fold(text))) return { error: `“${text}” is there twice: make each option different.`, field: i };
    seen.set(fold(text), i);
    kept.push(text);
  }
  if (kept.length < MIN_OPTIONS) {
    const next = fields.findIndex((o) => !String(o ?? '').trim());
    return { error: `Give at least ${MIN_OPTIONS} options to choose from.`, field: next < 0 ? fields.length : next };
  }
  if (kept.length > MAX_OPTIONS) return { error: `A poll has at most ${MAX_OPTIONS} options.`, field: fields.length - 1 };
  return { poll: { question: q, options: kept, multiple: Boolean(multiple) } };
}

/** The option numbers `me` picked, ascending. */
export function myChoices(poll, me) {
  const mine = [];
  poll.options.forEach((o, i) => {
    if (me && o.voters.some((v) => sameNick(v, me))) mine.push(i);
  });
  return mine;
}

/**
 * What the bar chart shows: per option its votes, its share of all votes (0–1, the bar's width), that share as a
 * whole percent, and whether it is one of `me`'s choices; and the totals. On a multiple-choice poll one person's
 * votes count once per option they picked, so the shares still add up to 100 %.
 */
export function pollResults(poll, me) {
  const total = poll.options.reduce((n, o) => n + o.voters.length, 0);
  const people = new Set();
  for (const o of poll.options) for (const v of o.voters) people.add(v.toLowerCase());
  const options = poll.options.map((o, index) => {
    const count = o.voters.length;
    const share = total ? count / total : 0;
    return {
      index,
      text: o.text,
      count,
      share,
      percent: Math.round(share * 100),
      voters: o.voters,
      mine: Boolean(me) && o.voters.some((v) => sameNick(v, me)),
    };
  });
  return { total, people: people.size, options };
}

/** "0 votes · 0%", "1 vote · 33%", "2 votes · 67%": the text beside an option's bar. */
export function countLabel(count, percent) {
  if (!count) return '0 votes · 0%';
  return `${count} ${count === 1 ? 'vote' : 'votes'} · ${percent}%`;
}

/** "3 people voted", for under the chart. */
export function turnoutLabel(people) {
  if (!people) return 'No votes yet';
  return people === 1 ? '1 person voted' : `${people} people voted`;
}

/**
 * The full list of choices to send when `me` clicks option `index` (the server replaces the earlier vote). One
 * choice: the option, or none when it was already the choice (clicking it again withdraws). Several: the click
 * adds or removes that option.
 */
export function nextChoices(poll, index, me) {
  const mine = myChoices(poll, me);
  if (!poll.multiple) return mine.length === 1 && mine[0] === index ? [] : [index];
  const chosen = new Set(mine);
  if (chosen.has(index)) chosen.delete(index);
  else chosen.add(index);
  return [...chosen].sort((a, b) => a - b);
}

/** Its creator or a moderator may close a poll that is still open (PROTOCOL.md §6.19). */
export function canClosePoll(msg, me, moderating) {
  if (!msg.poll || msg.poll.closed || msg.deleted) return false;
  return Boolean(moderating) || (Boolean(me) && sameNick(msg.from, me));
}

/** "Alice, bob and 3 others": who picked an option, short enough for a line under its bar. */
export function votersLabel(voters, max = 4) {
  if (!voters.length) return '';
  if (voters.length <= max) {
    return voters.length === 1 ? voters[0] : `${voters.slice(0, -1).join(', ')} and ${voters[voters.length - 1]}`;
  }
  const more = voters.length - max;
  return `${voters.slice(0, max).join(', ')} and ${more} ${more === 1 ? 'other' : 'others'}`;
}
