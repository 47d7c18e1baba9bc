// Unit tests of polls and reactions in the UI (ui/js/polls.js, ui/js/reactions.js): the "New poll" form's checks,
// the bar chart's shares and labels, what a click on an option votes, who may close a poll, and what a click on a
// reaction asks for. No DOM.

import test from 'node:test';
import assert from 'node:assert/strict';

import {
  checkPoll, pollResults, countLabel, turnoutLabel, nextChoices, myChoices, canClosePoll, votersLabel, MAX_OPTIONS,
} from '../js/polls.js';
import { reactionOn, reacted, reactionTitle, REACTION_CHOICES } from '../js/reactions.js';

const poll = (voters, { multiple = false, closed = false } = {}) => ({
  options: voters.map((v, i) => ({ text: `option ${i}`, voters: v })),
  multiple,
  closed,
});

test('the poll form keeps trimmed, non-blank options and accepts 2 to 10', () => {
  assert.deepEqual(checkPoll({ question: '  Which day?  ', options: [' Mon ', '', 'Tue', '   '], multiple: 1 }), {
    poll: { question: 'Which day?', options: ['Mon', 'Tue'], multiple: true },
  });
  const ten = Array.from({ length: 10 }, (_, i) => `choice ${i}`);
  assert.deepEqual(checkPoll({ question: 'q', options: ten }).poll.options, ten);
  assert.equal(checkPoll({ question: 'q', options: ['a', 'b'] }).poll.multiple, false);
});

test('the poll form says what to fix, and which field', () => {
  assert.deepEqual(checkPoll({ question: '   ', options: ['a', 'b'] }), { error: 'Write the question first.', field: 'question' });
  const one = checkPoll({ question: 'q', options: ['only', '', ''] });
  assert.match(one.error, /at least 2 options/);
  assert.equal(one.field, 1, 'the first blank field gets the focus');
  assert.equal(checkPoll({ question: 'q', options: ['only'] }).field, 1, 'no blank field: the one to add');
  const eleven = checkPoll({ question: 'q', options: Array.from({ length: MAX_OPTIONS + 1 }, (_, i) => `o${i}`) });
  assert.match(eleven.error, /at most 10 options/);
  const dup = checkPoll({ question: 'q', options: ['Yes', 'no', ' yes '] });
  assert.equal(dup.field, 2);
  assert.match(dup.error, /twice/);
  const long = checkPoll({ question: 'q', options: ['a', 'x'.repeat(101)] });
  assert.equal(long.field, 1);
  assert.match(long.error, /101 characters/);
  // 100 characters of emoji are 100 characters, not 200 UTF-16 units.
  assert.ok(checkPoll({ question: 'q', options: ['a', '😀'.repeat(100)] }).poll);
  assert.match(checkPoll({ question: 'x'.repeat(11), options: ['a', 'b'] }, 10).error, /limit is 10/);
});

test('the bar chart shows each option\'s share of the votes, and mine', () => {
  const r = pollResults(poll([['ana', 'Bob'], [], ['cy']]), 'bob');
  assert.equal(r.total, 3);
  assert.equal(r.people, 3);
  assert.deepEqual(r.options.map((o) => [o.count, o.percent, o.mine]), [[2, 67, true], [0, 0, false], [1, 33, false]]);
  assert.ok(Math.abs(r.options[0].share - 2 / 3) < 1e-9);
  assert.deepEqual(countLabel(2, 67), '2 votes · 67%');
  assert.deepEqual(countLabel(1, 33), '1 vote · 33%');
  assert.deepEqual(countLabel(0, 0), '0 votes · 0%');

  const empty = pollResults(poll([[], []]), 'ana');
  assert.deepEqual(empty.options.map((o) => o.share), [0, 0], 'no division by zero');
  assert.equal(turnoutLabel(empty.people), 'No votes yet');

  // Several choices: one person counts once in the turnout, once per option in the shares.
  const multi = pollResults(poll([['ana', 'bob'], ['ana']], { multiple: true }), 'ana');
  assert.equal(multi.total, 3);
  assert.equal(multi.people, 2);
  assert.equal(turnoutLabel(multi.people), '2 people voted');
  assert.deepEqual(multi.options.map((o) => o.mine), [true, true]);
});

test('a click on an option switches a single vote, and on my choice withdraws it', () => {
  const p = poll([['ana'], []]);
  assert.deepEqual(nextChoices(p, 1, 'ANA'), [1], 'switch');
  assert.deepEqual(nextChoices(p, 0, 'ana'), [], 'the same option again: withdraw');
  assert.deepEqual(nextChoices(p, 0, 'bob'), [0], 'a first vote');
});

test('a click on an option of a multiple-choice poll adds or removes it, keeping the others', () => {
  const p = poll([['ana'], [], ['ana']], { multiple: true });
  assert.deepEqual(myChoices(p, 'Ana'), [0, 2]);
  assert.deepEqual(nextChoices(p, 1, 'ana'), [0, 1, 2]);
  assert.deepEqual(nextChoices(p, 2, 'ana'), [0]);
  assert.deepEqual(nextChoices(poll([['ana'], []], { multiple: true }), 0, 'ana'), [], 'the only choice: withdraw');
});

test('its creator or a moderator may close an open poll', () => {
  const msg = { from: 'Teacher', poll: poll([[], []]), deleted: false };
  assert.equal(canClosePoll(msg, 'teacher', false), true);
  assert.equal(canClosePoll(msg, 'ana', false), false);
  assert.equal(canClosePoll(msg, 'ana', true), true);
  assert.equal(canClosePoll({ ...msg, poll: poll([[], []], { closed: true }) }, 'teacher', true), false);
  assert.equal(canClosePoll({ from: 'teacher', poll: null }, 'teacher', true), false);
});

test('voters are listed briefly', () => {
  assert.equal(votersLabel([]), '');
  assert.equal(votersLabel(['ana']), 'ana');
  assert.equal(votersLabel(['ana', 'bob', 'cy']), 'ana, bob and cy');
  assert.equal(votersLabel(['a', 'b', 'c', 'd', 'e', 'f']), 'a, b, c, d and 2 others');
});

test('a reaction is added unless mine is already there, then taken back', () => {
  const reactions = [{ emoji: '👍', by: ['Ana', 'bob'] }, { emoji: '🎉', by: ['bob'] }];
  assert.equal(reactionOn(reactions, '👍', 'ana'), false, 'mine: take it back');
  assert.equal(reactionOn(reactions, '🎉', 'ana'), true, 'someone else\'s: add mine');
  assert.equal(reactionOn(reactions, '👀', 'ana'), true, 'a new one');
  assert.equal(reactionOn([], '👍', 'ana'), true);
  assert.equal(reacted(reactions[0], 'ANA'), true);
  assert.equal(reactionTitle(reactions[0], 'ana'), 'you and bob reacted with 👍');
  assert.equal(reactionTitle({ emoji: '🎉', by: ['bob', 'cy', 'dee'] }, 'ana'), 'bob, cy and dee reacted with 🎉');
  assert.equal(REACTION_CHOICES.length, 6);
});
