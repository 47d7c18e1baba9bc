// Unit tests of changed messages in the UI state (PROTOCOL.md §7.22): `message_updated` replaces the copy held unless
// it is older (`rev`), is ignored for a message not held, survives a history page that repeats an older copy; a
// message built from the user's own `ack` (a poll, a reply) is replaced by the server's copy; a resume whose changes
// did not fit reloads the window; and the `@nick` mention pieces the view marks. No DOM.

import test from 'node:test';
import assert from 'node:assert/strict';

import { createState, startSession, setActive, addPending } from '../js/state.js';
import { applyEvent } from '../js/events.js';
import { storedMessage, refresh, canEdit, canDelete, quoteFor } from '../js/message.js';
import { mentionParts } from '../js/names.js';

const T0 = 1_700_000_000_000;
const server = (event) => ({ kind: 'server', event });
const msg = (seq, extra = {}) => ({ type: 'message', room: 'lobby', id: seq, seq, from: 'bob', text: `m${seq}`, ts: T0 + seq, client_id: `c${seq}`, ...extra });
const updated = (seq, rev, extra = {}) => ({ ...msg(seq), type: 'message_updated', rev, ...extra });

/** Ana in the lobby, which holds messages 1–3 from its newest page. */
function lobby() {
  const s = createState();
  startSession(s, { url: 'ws://127.0.0.1:7878/ws', nick: 'ana' }, null);
  applyEvent(s, server({ type: 'welcome', nick: 'ana', rooms: [{ room: 'lobby' }], dms: [] }));
  applyEvent(s, { kind: 'state', state: 'online' });
  setActive(s, 'lobby');
  applyEvent(s, server({ type: 'joined', room: 'lobby', topic: '', members: ['ana', 'bob'], last_seq: 3, last_rev: 0 }));
  applyEvent(s, server({ type: 'history', room: 'lobby', messages: [msg(1), msg(2), msg(3)], has_more: false }));
  return s;
}

const held = (s, seq) => s.convs.get('lobby').bySeq.get(seq);

test('a message_updated replaces the copy held, in place', () => {
  const s = lobby();
  const c = s.convs.get('lobby');
  const rev = c.rev;
  applyEvent(s, server(updated(2, 5, { text: 'm2, corrected', edited_ms: T0 + 99, reactions: [{ emoji: '👍', by: ['ana'] }] })));
  const m = held(s, 2);
  assert.equal(m.text, 'm2, corrected');
  assert.equal(m.edited_ms, T0 + 99);
  assert.deepEqual(m.reactions, [{ emoji: '👍', by: ['ana'] }]);
  assert.equal(m.rev, 5);
  assert.ok(c.rev > rev, 'the view redraws');
  assert.deepEqual(c.msgs.map((x) => x.seq), [1, 2, 3], 'same place, nothing added');
  assert.equal(c.unread, 0, 'a change is not a new message');
});

test('an older revision never replaces a newer one', () => {
  const s = lobby();
  applyEvent(s, server(updated(1, 7, { poll: { options: [{ text: 'a', voters: ['ana', 'bob'] }, { text: 'b', voters: [] }], multiple: false, closed: false } })));
  applyEvent(s, server(updated(1, 6, { poll: { options: [{ text: 'a', voters: ['ana'] }, { text: 'b', voters: [] }], multiple: false, closed: false } })));
  assert.deepEqual(held(s, 1).poll.options[0].voters, ['ana', 'bob']);
  assert.equal(held(s, 1).rev, 7);
  applyEvent(s, server(updated(1, 8, { poll: { options: [{ text: 'a', voters: ['bob'] }, { text: 'b', voters: ['ana'] }], multiple: false, closed: true } })));
  assert.equal(held(s, 1).poll.closed, true);
  assert.deepEqual(held(s, 1).poll.options.map((o) => o.voters), [['bob'], ['ana']]);
});

test('an update of a message not shown, or of a room not open, is ignored', () => {
  const s = lobby();
  const c = s.convs.get('lobby');
  const rev = c.rev;
  applyEvent(s, server(updated(99, 3)));
  applyEvent(s, server({ ...updated(1, 3), room: 'maths' }));
  assert.equal(c.rev, rev);
  assert.equal(c.bySeq.has(99), false);
  assert.equal(s.convs.has('maths'), false);
});

test('a deletion empties the message and drops its poll, reactions and quote', () => {
  const s = lobby();
  applyEvent(s, server(updated(3, 2, { reactions: [{ emoji: '🎉', by: ['ana'] }], reply_to: { seq: 1, from: 'bob', text: 'm1' } })));
  assert.deepEqual(held(s, 3).reply_to, { seq: 1, from: 'bob', text: 'm1' });
  applyEvent(s, server(updated(3, 4, { text: '', deleted: true })));
  const m = held(s, 3);
  assert.equal(m.deleted, true);
  assert.equal(m.text, '');
  assert.deepEqual(m.reactions, []);
  assert.equal(m.reply_to, null);
  assert.equal(canEdit(m, 'bob'), false);
  assert.equal(canDelete(m, 'bob', true), false);
});

test('a history page read before a change does not undo it; one read after does update', () => {
  const s = lobby();
  const c = s.convs.get('lobby');
  applyEvent(s, server(updated(2, 9, { text: 'newest' })));
  // Paging again (say after a jump) brings an older snapshot and then a newer one.
  c.requests.push({ id: 99, dir: 'latest', before: null, after: null, at: Date.now(), stale: false });
  applyEvent(s, server({ type: 'history', room: 'lobby', messages: [msg(2, { text: 'older', rev: 8 })], has_more: false }));
  assert.equal(held(s, 2).text, 'newest');
  c.requests.push({ id: 100, dir: 'latest', before: null, after: null, at: Date.now(), stale: false });
  applyEvent(s, server({ type: 'history', room: 'lobby', messages: [msg(2, { text: 'newer still', rev: 10 })], has_more: false }));
  assert.equal(held(s, 2).text, 'newer still');
});

test('my poll shows as pending, then from its ack, then as the server stored it', () => {
  const s = lobby();
  const c = s.convs.get('lobby');
  applyEvent(s, { kind: 'queued', client_id: 'p1', room: 'lobby', text: 'Which?', poll: { options: ['9', '11'], multiple: false } });
  const p = c.pending.get('p1');
  assert.deepEqual(p.poll, { options: [{ text: '9', voters: [] }, { text: '11', voters: [] }], multiple: false, closed: false });
  applyEvent(s, server({ type: 'ack', room: 'lobby', client_id: 'p1', id: 40, seq: 4, ts: T0 + 4, duplicate: false }));
  assert.equal(c.pending.size, 0);
  assert.deepEqual(held(s, 4).poll.options.map((o) => o.text), ['9', '11'], 'a poll straight away, before the broadcast');
  assert.equal(held(s, 4).local, true);
  // The broadcast copy (the sender gets it too) replaces the one built from the ack, though it has no `rev`.
  const copy = { options: [{ text: '9', voters: [] }, { text: '11', voters: [] }], multiple: false, closed: false };
  applyEvent(s, server(msg(4, { from: 'ana', text: 'Which?', client_id: 'p1', poll: copy })));
  assert.equal(held(s, 4).local, false);
  assert.deepEqual(c.msgs.map((m) => m.seq), [1, 2, 3, 4]);
  // From now on an unchanged replay does not count as news.
  assert.equal(refresh(held(s, 4), msg(4, { text: 'again' }), { strict: true }), false);
});

test('a reply quotes the answered message while pending, from the app\'s queued event too', () => {
  const s = lobby();
  const c = s.convs.get('lobby');
  assert.deepEqual(quoteFor(held(s, 2)), { seq: 2, from: 'bob', text: 'm2' });
  applyEvent(s, { kind: 'queued', client_id: 'r1', room: 'lobby', text: 'me too', reply_to: 2 });
  assert.deepEqual(c.pending.get('r1').reply_to, { seq: 2, from: 'bob', text: 'm2' });
  // The web bridge's send resolves after its own `queued`: the quote the caller knows is added, not doubled.
  applyEvent(s, { kind: 'queued', client_id: 'r2', room: 'lobby', text: 'and me' });
  addPending(s, { client_id: 'r2', room: 'lobby', text: 'and me', quote: { seq: 1, from: 'bob', text: 'm1' } });
  assert.deepEqual(c.pending.get('r2').reply_to, { seq: 1, from: 'bob', text: 'm1' });
  assert.equal(c.pending.size, 2);
  const long = storedMessage('lobby', { seq: 9, from: 'bob', text: 'x'.repeat(300) });
  assert.equal(quoteFor(long).text.length, 140);
});

test('a resume whose changes did not all fit reloads the window', () => {
  const s = lobby();
  const c = s.convs.get('lobby');
  applyEvent(s, { kind: 'state', state: 'reconnecting', attempt: 1, retry_in_ms: 1000 });
  applyEvent(s, { kind: 'state', state: 'online' });
  const effects = applyEvent(s, server({ type: 'joined', room: 'lobby', topic: '', members: ['ana'], last_seq: 3, last_rev: 500, updates_dropped: true }));
  assert.deepEqual(effects.map((e) => [e.type, e.before, e.after]), [['history', null, null]]);
  assert.equal(c.msgs.length, 0, 'the stale copies are gone until the page arrives');
  const quiet = lobby();
  const none = applyEvent(quiet, server({ type: 'joined', room: 'lobby', topic: '', members: ['ana'], last_seq: 3, last_rev: 4 }));
  assert.deepEqual(none, []);
  assert.equal(quiet.convs.get('lobby').msgs.length, 3);
});

test('malformed extras are dropped rather than drawn half', () => {
  const m = storedMessage('lobby', { seq: 1, from: 'bob', text: 'x', poll: { options: 'nope' }, reactions: [{ emoji: 5 }, { emoji: '👍', by: [] }, { emoji: '🎉', by: ['a', 7] }], reply_to: { seq: 'x' }, rev: -3 });
  assert.equal(m.poll, null);
  assert.deepEqual(m.reactions, [{ emoji: '🎉', by: ['a'] }]);
  assert.equal(m.reply_to, null);
  assert.equal(m.rev, 0);
});

test('mentions of me are cut out as their own pieces, the rest stays text', () => {
  assert.deepEqual(mentionParts('hey @Ana, see @anabel and x@ana. @ana', 'ana'), [
    { text: 'hey ', mention: false },
    { text: '@Ana', mention: true },
    { text: ', see @anabel and x@ana. ', mention: false },
    { text: '@ana', mention: true },
  ]);
  assert.deepEqual(mentionParts('<b>@ana</b>', 'ana'), [
    { text: '<b>', mention: false },
    { text: '@ana', mention: true },
    { text: '</b>', mention: false },
  ]);
  assert.deepEqual(mentionParts('nobody', 'ana'), [{ text: 'nobody', mention: false }]);
});

test('a refused vote, reaction, edit or deletion is told in the conversation with the server\'s words', () => {
  const s = lobby();
  applyEvent(s, server({ type: 'error', code: 'poll_closed', message: 'this poll is closed; its results are final', room: 'lobby' }));
  applyEvent(s, server({ type: 'error', code: 'not_yours', message: 'only its sender may edit a message', room: 'lobby' }));
  const notices = s.convs.get('lobby').notices.map((n) => [n.kind, n.text]);
  assert.deepEqual(notices, [
    ['error', 'this poll is closed; its results are final'],
    ['error', 'only its sender may edit a message'],
  ]);
  // A refused poll is a refused send: it stays pending with the reason, to dismiss.
  applyEvent(s, { kind: 'queued', client_id: 'p9', room: 'lobby', text: 'Q', poll: { options: ['a', 'A'], multiple: false } });
  applyEvent(s, server({ type: 'error', code: 'invalid_poll', message: 'a poll has 2 to 10 different options', room: 'lobby', client_id: 'p9' }));
  assert.equal(s.convs.get('lobby').pending.get('p9').error, 'a poll has 2 to 10 different options');
});

test('only the sender edits; the sender or a moderator deletes', () => {
  const m = storedMessage('lobby', { seq: 1, from: 'Bob', text: 'hi' });
  assert.equal(canEdit(m, 'bob'), true);
  assert.equal(canEdit(m, 'ana'), false);
  assert.equal(canDelete(m, 'BOB', false), true);
  assert.equal(canDelete(m, 'ana', false), false);
  assert.equal(canDelete(m, 'ana', true), true, 'a moderator');
  assert.equal(canEdit(m, 'ana'), false, 'not even a moderator edits someone else\'s words');
});
