// Reactions under a message (`.reactions`): one chip per emoji, `emoji count`, with who reacted in its tooltip and the
// user's own reactions highlighted; clicking a chip adds or takes back one's own. And the small picker the message's
// "React" button opens. The emoji is the server's text like any other: it goes into the page as text only.

import { REACTION_CHOICES, reacted, reactionTitle } from '../reactions.js';
import { el, reconcile, setText, show, attr } from './dom.js';

function createChip(r) {
  return el(
    'button',
    { type: 'button', class: 'reaction', dataset: { emoji: r.emoji } },
    el('span', { class: 'reaction-emoji' }),
    el('span', { class: 'reaction-count' }),
  );
}

/** Draws `msg.reactions` as chips in `node` (hidden when there are none). */
export function updateReactions(node, msg, ctx) {
  const list = msg.reactions || [];
  reconcile(node, list, {
    key: (r) => r.emoji,
    create: createChip,
    update: (chip, r) => {
      const mine = reacted(r, ctx.me);
      chip.classList.toggle('mine', mine);
      attr(chip, 'aria-pressed', String(mine));
      attr(chip, 'title', reactionTitle(r, ctx.me));
      attr(chip, 'aria-label', `${reactionTitle(r, ctx.me)}. ${mine ? 'Take back yours' : 'React the same'}`);
      setText(chip.firstChild, r.emoji);
      setText(chip.lastChild, String(r.by.length));
    },
  });
  show(node, list.length > 0);
}

/** The emoji picker a message's "React" button opens. */
export function createPicker() {
  return el(
    'div',
    { class: 'react-picker', role: 'group', 'aria-label': 'Pick a reaction' },
    ...REACTION_CHOICES.map((emoji) =>
      el('button', { type: 'button', class: 'react-choice', dataset: { emoji }, title: `React with ${emoji}`, text: emoji }),
    ),
  );
}
