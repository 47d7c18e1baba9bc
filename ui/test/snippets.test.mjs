// Saved snippets (ui/js/snippets.js, kept by ui/js/store.js): newest first, no duplicates, at most 50 of at most
// 4000 characters — on saving, and again on loading whatever localStorage holds — and how one goes into the message
// box at the caret.

import { test, beforeEach } from 'node:test';
import assert from 'node:assert/strict';

import { addSnippet, removeSnippet, insertSnippet, snippetPreview, MAX_SNIPPETS, MAX_SNIPPET_CHARS } from '../js/snippets.js';
import { loadSnippets, saveSnippets } from '../js/store.js';

/** A localStorage for Node: the store reads and writes through the global. */
class MemoryStorage {
  constructor() {
    this.map = new Map();
  }
  getItem(k) {
    return this.map.has(k) ? this.map.get(k) : null;
  }
  setItem(k, v) {
    this.map.set(k, String(v));
  }
  removeItem(k) {
    this.map.delete(k);
  }
}

beforeEach(() => {
  globalThis.localStorage = new MemoryStorage();
});

test('a saved snippet goes to the top; the same text again moves there instead of repeating', () => {
  let { list, error } = addSnippet([], 'Open your books at page 12.');
  assert.equal(error, '');
  ({ list } = addSnippet(list, 'Homework is on the board.'));
  assert.deepEqual(list, ['Homework is on the board.', 'Open your books at page 12.']);
  ({ list } = addSnippet(list, 'Open your books at page 12.'));
  assert.deepEqual(list, ['Open your books at page 12.', 'Homework is on the board.']);
  assert.deepEqual(removeSnippet(list, 0), ['Homework is on the board.']);
});

test('blank, overlong and one-too-many are refused with a reason, the list unchanged', () => {
  assert.match(addSnippet([], '   \n').error, /Type the text/);
  const long = 'é'.repeat(MAX_SNIPPET_CHARS + 1);
  assert.match(addSnippet([], long).error, /4001 characters.*at most 4000/);
  assert.equal(addSnippet([], 'x'.repeat(MAX_SNIPPET_CHARS)).error, '', 'exactly the limit is fine');
  const full = Array.from({ length: MAX_SNIPPETS }, (_, i) => `snippet ${i}`);
  const refused = addSnippet(full, 'one more');
  assert.match(refused.error, /50 snippets/);
  assert.equal(refused.list, full);
  assert.equal(addSnippet(full, 'snippet 7').error, '', 'saving one already there never needs room');
});

test('the store keeps at most 50 of at most 4000 characters, and drops what it cannot trust', () => {
  const many = Array.from({ length: 70 }, (_, i) => `s${i}`);
  assert.equal(saveSnippets(many).length, MAX_SNIPPETS);
  assert.equal(loadSnippets().length, MAX_SNIPPETS);
  assert.deepEqual(loadSnippets().slice(0, 2), ['s0', 's1'], 'newest first is kept');
  localStorage.setItem('parlor.snippets', JSON.stringify(['ok', 42, null, { text: 'x' }, '', '   ', 'y'.repeat(MAX_SNIPPET_CHARS + 1), 'fine']));
  assert.deepEqual(loadSnippets(), ['ok', 'fine']);
  localStorage.setItem('parlor.snippets', '{not json');
  assert.deepEqual(loadSnippets(), []);
  localStorage.setItem('parlor.snippets', JSON.stringify({ 0: 'object, not a list' }));
  assert.deepEqual(loadSnippets(), []);
  delete globalThis.localStorage;
  assert.deepEqual(loadSnippets(), [], 'no storage at all: none');
  assert.deepEqual(saveSnippets(['kept in memory']), ['kept in memory'], 'and saving does not throw');
});

test('a snippet goes in at the caret, replacing the selection', () => {
  assert.deepEqual(insertSnippet('Hello !', 6, 6, 'class'), { value: 'Hello class!', caret: 11 });
  assert.deepEqual(insertSnippet('Hello XXX!', 6, 9, 'class'), { value: 'Hello class!', caret: 11 });
  assert.deepEqual(insertSnippet('', undefined, undefined, 'text'), { value: 'text', caret: 4 });
  assert.deepEqual(insertSnippet('ab', 99, 99, 'c'), { value: 'abc', caret: 3 });
});

test('the menu shows one line of each', () => {
  assert.equal(snippetPreview('Line one\n\nline   two'), 'Line one line two');
  assert.equal(snippetPreview('x'.repeat(100), 10), `${'x'.repeat(9)}…`);
});
