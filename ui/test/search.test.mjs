// Searching a conversation (ui/js/search.js): how the words found are cut out of a result for `<mark>` (case and
// accents ignored, the last word as the start of a word, HTML as text), the search's state (stale replies dropped,
// paging with `before`, `invalid_query` and no results told in the panel rather than the conversation), and showing
// a result: scrolled to when the window holds it, else the page around it is loaded.

import { test } from 'node:test';
import assert from 'node:assert/strict';

import { highlightParts, queryTerms, startSearch, moreResults, searchStatus, MAX_QUERY_CHARS } from '../js/search.js';
import { createState, startSession, setActive, jumpToMessage } from '../js/state.js';
import { applyEvent } from '../js/events.js';
import { applyPage, atNewest, AROUND_AFTER } from '../js/conversation.js';

const marked = (text, query) => highlightParts(text, query).filter((p) => p.match).map((p) => p.text);
const joined = (text, query) => highlightParts(text, query).map((p) => p.text).join('');

test('the words found are cut out, case and accents ignored', () => {
  assert.deepEqual(marked('Homework: Fractions, page 12', 'fractions hom'), ['Homework', 'Fractions']);
  assert.deepEqual(marked('L’élève a réussi', 'eleve'), ['élève']);
  assert.deepEqual(marked('ÉCOLE école Ecole', 'école'), ['ÉCOLE', 'école', 'Ecole']);
  assert.deepEqual(marked('see you at noon', 'no'), ['noon'], 'the last word is the start of a word');
  assert.deepEqual(marked('no noon', 'no see'), ['no'], 'other words are whole words');
  assert.deepEqual(
    highlightParts('a fraction, fractions', 'fractions'),
    [{ text: 'a fraction, ', match: false }, { text: 'fractions', match: true }],
  );
});

test('every piece put back together is the text, and HTML stays text', () => {
  for (const [text, query] of [
    ['<img src=x onerror=alert(1)> img', 'img'],
    ['<script>alert("x")</script>', 'script alert'],
    ['nothing here', 'absent'],
    ['', 'x'],
    ['emoji 😀 and café', 'cafe'],
  ]) {
    assert.equal(joined(text, query), text, text);
  }
  assert.deepEqual(marked('<img src=x onerror=alert(1)>', 'onerror'), ['onerror']);
  assert.deepEqual(highlightParts('no match', 'zzz'), [{ text: 'no match', match: false }]);
});

test('the query is read as the server reads it', () => {
  assert.deepEqual(queryTerms('  fractions  hom '), [{ text: 'fractions', prefix: false }, { text: 'hom', prefix: true }]);
  assert.deepEqual(queryTerms('"OR" NEAR( e-ma'), [
    { text: 'or', prefix: false }, { text: 'near', prefix: false }, { text: 'e', prefix: false }, { text: 'ma', prefix: true },
  ]);
  assert.deepEqual(queryTerms('* ( ) " -'), [], 'no words: nothing to mark');
  assert.deepEqual(marked('a * b', '*'), []);
});

function online() {
  const s = createState();
  startSession(s, { url: 'ws://127.0.0.1:7878/ws', nick: 'ana' }, null);
  applyEvent(s, { kind: 'server', event: { type: 'welcome', nick: 'ana', rooms: [{ room: 'lobby' }, { room: 'maths' }], dms: [] } });
  applyEvent(s, { kind: 'state', state: 'online' });
  setActive(s, 'maths');
  applyEvent(s, { kind: 'server', event: { type: 'joined', room: 'maths', topic: '', members: ['ana'], last_seq: 300, last_rev: 0 } });
  return s;
}

const hit = (seq, text = `message ${seq}`) => ({ room: 'maths', id: seq, seq, from: 'bo', text, ts: 1_700_000_000_000 + seq });
const results = (query, messages, hasMore = false) => ({
  kind: 'server', event: { type: 'search_results', room: 'maths', query, messages, has_more: hasMore },
});

test('a search asks once, pages older with before, and drops a reply to an older query', () => {
  const s = online();
  assert.deepEqual(startSearch(s, 'maths', 'fr'), [{ type: 'search', room: 'maths', query: 'fr', before: null }]);
  assert.equal(searchStatus(s.search), 'Searching…');
  assert.deepEqual(startSearch(s, 'maths', 'fractions'), [{ type: 'search', room: 'maths', query: 'fractions', before: null }]);
  applyEvent(s, results('fr', [hit(1)])); // Typed over since: ignored.
  assert.deepEqual(s.search.results, []);
  applyEvent(s, results('fractions', [hit(250), hit(120)], true));
  assert.deepEqual(s.search.results.map((r) => r.seq), [250, 120]);
  assert.equal(searchStatus(s.search), '2+ messages match');
  assert.deepEqual(moreResults(s), [{ type: 'search', room: 'maths', query: 'fractions', before: 120 }]);
  assert.deepEqual(moreResults(s), [], 'one page at a time');
  applyEvent(s, results('fractions', [hit(120), hit(40)], false));
  assert.deepEqual(s.search.results.map((r) => r.seq), [250, 120, 40], 'no result twice');
  assert.equal(searchStatus(s.search), '3 messages match');
  assert.deepEqual(moreResults(s), [], 'no more');
});

test('no results, invalid_query and an overlong query are said in the panel, not the conversation', () => {
  const s = online();
  const notices = () => s.convs.get('maths').notices.length;
  const before = notices();
  startSearch(s, 'maths', 'zebra');
  applyEvent(s, results('zebra', []));
  assert.equal(searchStatus(s.search), 'No messages match “zebra”.');
  startSearch(s, 'maths', '*** ???');
  applyEvent(s, { kind: 'server', event: { type: 'error', code: 'invalid_query', message: 'type a word to search for', room: 'maths' } });
  assert.match(searchStatus(s.search), /Type a word to search for/);
  assert.equal(s.search.pending, false);
  assert.deepEqual(startSearch(s, 'maths', 'x'.repeat(MAX_QUERY_CHARS + 1)), [], 'not sent');
  assert.match(searchStatus(s.search), /at most 200 characters/);
  assert.equal(notices(), before, 'no notice in the conversation');
  assert.deepEqual(startSearch(s, 'maths', '   '), [], 'blank: the panel closes');
  assert.equal(s.search.room, null);
});

test('a storage failure answers the search unless a history page is awaited', () => {
  const s = online();
  startSearch(s, 'maths', 'x');
  const c = s.convs.get('maths');
  assert.ok(c.requests.length, 'the newest page was asked for at joined');
  applyEvent(s, { kind: 'server', event: { type: 'error', code: 'storage_failed', message: 'could not read', room: 'maths' } });
  assert.equal(s.search.pending, true, 'taken as the history page’s');
  applyEvent(s, { kind: 'server', event: { type: 'history', room: 'maths', messages: [hit(300)], has_more: true } });
  applyEvent(s, { kind: 'server', event: { type: 'error', code: 'storage_failed', message: 'could not search', room: 'maths' } });
  assert.equal(s.search.error, 'could not search');
});

test('a dropped connection ends a search in flight', () => {
  const s = online();
  startSearch(s, 'maths', 'x');
  applyEvent(s, { kind: 'state', state: 'reconnecting', attempt: 1, retry_in_ms: 1000, reason: 'lost' });
  assert.equal(s.search.pending, false);
  assert.match(s.search.error, /connection dropped/);
});

test('showing a result: held messages are only scrolled to; others load the page around them', () => {
  const s = online();
  const c = s.convs.get('maths');
  applyEvent(s, { kind: 'server', event: { type: 'history', room: 'maths', messages: Array.from({ length: 50 }, (_, i) => hit(251 + i)), has_more: true } });
  assert.equal(c.msgs.length, 50);
  assert.deepEqual(jumpToMessage(s, 'maths', 260), [], 'held: nothing to load');
  const effects = jumpToMessage(s, 'maths', 120);
  assert.equal(effects.length, 1);
  assert.deepEqual({ ...effects[0], id: 0 }, { type: 'history', room: 'maths', before: 120 + AROUND_AFTER + 1, after: null, id: 0 });
  assert.equal(c.msgs.length, 0, 'the window is emptied for the page');
  const page = Array.from({ length: 50 }, (_, i) => hit(81 + i)); // 81…130
  applyEvent(s, { kind: 'server', event: { type: 'history', room: 'maths', messages: page, has_more: true } });
  assert.ok(c.bySeq.has(120));
  assert.equal(c.hasMore, true);
  assert.equal(atNewest(c), false, 'the newest messages are not held: "Jump to latest" shows');
  // A reply that does not end before the asked `before` answers something else.
  const stale = applyPage(c, { messages: [hit(299)], has_more: false });
  assert.equal(stale, null);
});
