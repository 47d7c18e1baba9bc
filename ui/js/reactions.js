// Reactions (PROTOCOL.md §6.20): the emoji the picker offers, and what a click on a reaction chip asks for. Pure.

import { sameNick } from './names.js';

/** The picker's choices: a classroom's usual few. Anything else a message holds still shows as a chip. */
export const REACTION_CHOICES = Object.freeze(['👍', '❤️', '😂', '🎉', '😮', '👀']);

/** Whether `me` is among those who reacted with `reaction`. */
export function reacted(reaction, me) {
  return Boolean(me) && reaction.by.some((n) => sameNick(n, me));
}

/**
 * The `on` to send when `me` picks `emoji` on a message holding `reactions`: add it unless `me` already reacted
 * with it (then the click takes it back).
 */
export function reactionOn(reactions, emoji, me) {
  const r = reactions.find((x) => x.emoji === emoji);
  return !(r && reacted(r, me));
}

/** "ana, bob and you reacted with 👍": the chip's tooltip. */
export function reactionTitle(reaction, me) {
  const names = reaction.by.map((n) => (me && sameNick(n, me) ? 'you' : n));
  const who = names.length <= 1 ? names.join('') : `${names.slice(0, -1).join(', ')} and ${names[names.length - 1]}`;
  return `${who} reacted with ${reaction.emoji}`;
}
