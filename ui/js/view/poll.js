// A poll inside its message (`.poll`): one row per option with a horizontal bar whose width is the option's share
// of the votes, the count and percent beside it, and who voted under it. Clicking an option votes (message-actions.js
// decides the new choices); the creator or a moderator sees "Close poll"; a closed poll shows "Final results".
//
// The option elements are kept from one drawing to the next (matched by index), so a vote moves the bars smoothly
// and does not take the keyboard focus away from the option just clicked. The width is set through the CSSOM
// (`style.width`): the page's CSP forbids inline style attributes in markup, not this.

import { pollResults, countLabel, turnoutLabel, canClosePoll, votersLabel } from '../polls.js';
import { el, setText, show, attr } from './dom.js';

/** The `.poll` block, empty; `updatePoll` fills it. */
export function createPoll() {
  return el(
    'div',
    { class: 'poll', role: 'group' },
    el('div', { class: 'poll-head' }, el('span', { class: 'poll-kind' })),
    el('ul', { class: 'poll-options' }),
    el(
      'div',
      { class: 'poll-foot' },
      el('span', { class: 'poll-turnout' }),
      el('button', { type: 'button', class: 'link poll-close-btn', text: 'Close poll', hidden: true }),
    ),
  );
}

function createOption(index) {
  return el(
    'li',
    {},
    el(
      'button',
      { type: 'button', class: 'poll-option', dataset: { index: String(index) } },
      el(
        'span',
        { class: 'poll-line' },
        el('span', { class: 'poll-mark', 'aria-hidden': 'true' }),
        el('span', { class: 'poll-label' }),
        el('span', { class: 'poll-count' }),
      ),
      el('span', { class: 'poll-bar', 'aria-hidden': 'true' }, el('span', { class: 'poll-fill' })),
      el('span', { class: 'poll-voters' }),
    ),
  );
}

/**
 * Draws `msg.poll` into `node`. `ctx`: `{ me, moderating }`; `pending`: the poll is not stored yet (nothing to vote
 * on or close).
 */
export function updatePoll(node, msg, ctx, pending = false) {
  const poll = msg.poll;
  const results = pollResults(poll, ctx.me);
  node.classList.toggle('closed', poll.closed);
  node.classList.toggle('multiple', poll.multiple);
  node.classList.toggle('voted', results.options.some((o) => o.mine));
  attr(node, 'aria-label', `Poll: ${msg.text}`);
  let kind = poll.multiple ? 'Poll · choose any' : 'Poll · choose one';
  if (poll.closed) kind = 'Final results';
  setText(node.querySelector('.poll-kind'), kind);

  const list = node.querySelector('.poll-options');
  while (list.children.length > results.options.length) list.lastElementChild.remove();
  while (list.children.length < results.options.length) list.append(createOption(list.children.length));
  results.options.forEach((o, i) => {
    const btn = list.children[i].firstElementChild;
    const [line, bar, voters] = btn.children;
    const [mark, label, count] = line.children;
    btn.classList.toggle('mine', o.mine);
    btn.disabled = poll.closed || pending;
    attr(btn, 'aria-pressed', poll.closed || pending ? null : String(o.mine));
    setText(mark, o.mine ? '✓' : '');
    setText(label, o.text);
    setText(count, countLabel(o.count, o.percent));
    // The exact share, not the rounded percent: two options at 33.4 % and 33.3 % look as close as they are.
    const width = `${(o.share * 100).toFixed(2)}%`;
    if (bar.firstElementChild.style.width !== width) bar.firstElementChild.style.width = width;
    setText(voters, votersLabel(o.voters));
    attr(btn, 'title', o.voters.length ? `${o.text}: ${o.voters.join(', ')}` : `${o.text}: no votes yet`);
  });

  let turnout = turnoutLabel(results.people);
  if (pending) turnout = 'Voting opens once the poll is posted';
  else if (!poll.closed && results.people) turnout += poll.multiple ? ' · click to add or remove your choices' : ' · click to vote';
  else if (!poll.closed) turnout += poll.multiple ? ' · pick one or more' : ' · click an option to vote';
  setText(node.querySelector('.poll-turnout'), turnout);
  show(node.querySelector('.poll-close-btn'), !pending && canClosePoll(msg, ctx.me, ctx.moderating));
}
