// Unit tests of running a class in the UI: announcements (who is asked to confirm, the tally and who has not read it
// as the room's members change), muted and removed people from `room_state`, the user's own mute and removal (the
// room closes, a notice says why), and the pinned message (set, updated by `message_updated`, never by an older
// revision, taken down). No DOM.

import test from 'node:test';
import assert from 'node:assert/strict';

import { ackTally, canAcknowledge, hasAcknowledged, missingText, seesMissing, tallyText } from '../js/announcements.js';
import { changeNotices, memberEntries, mutedHere, mutedNote, removedEntries } from '../js/moderation.js';
import { storedMessage } from '../js/message.js';
import { createState, startSession, setActive, addPending } from '../js/state.js';
import { applyEvent } from '../js/events.js';

const server = (event) => ({ kind: 'server', event });

function online(nick = 'ana') {
  const members = [...new Set([nick, 'bo', 'teacher'])];
  const s = createState();
  startSession(s, { url: 'ws://127.0.0.1:7878/ws', nick }, null);
  applyEvent(s, server({ type: 'welcome', nick, rooms: [{ room: 'lobby' }, { room: 'maths' }], dms: [] }));
  applyEvent(s, { kind: 'state', state: 'online' });
  applyEvent(s, server({ type: 'joined', room: 'lobby', topic: '', members, last_seq: 0, last_rev: 0 }));
  setActive(s, 'maths');
  applyEvent(s, server({ type: 'joined', room: 'maths', topic: '', members, last_seq: 0, last_rev: 0 }));
  return s;
}
const notices = (s, room) => s.convs.get(room).notices.map((n) => n.text);

const announcement = (acks = [], extra = {}) =>
  storedMessage('maths', { seq: 7, id: 70, from: 'teacher', text: 'Exam on Friday', ts: 1, client_id: 'c7', announcement: { acks }, ...extra });

test('an announcement asks everyone but its sender, once', () => {
  const m = announcement(['Ana']);
  assert.deepEqual(m.announcement, { acks: ['Ana'] });
  assert.equal(hasAcknowledged(m, 'ana'), true, 'nicknames compare case-insensitively');
  assert.equal(canAcknowledge(m, 'ana'), false);
  assert.equal(canAcknowledge(m, 'bo'), true);
  assert.equal(canAcknowledge(m, 'teacher'), false, 'the sender is not asked');
  assert.equal(canAcknowledge(storedMessage('maths', { seq: 8, from: 'x', text: 'plain', ts: 1 }), 'bo'), false);
  assert.equal(storedMessage('maths', { seq: 9, from: 'x', text: '', ts: 1, deleted: true, announcement: { acks: [] } }).announcement, null);
});

test('the tally counts the room as it is now: who comes online later is missing at once', () => {
  const m = announcement(['ana']);
  let t = ackTally(m, ['ana', 'bo', 'teacher']);
  assert.deepEqual(t, { read: ['ana'], missing: ['bo'], total: 2 });
  assert.equal(tallyText(t), '1 of 2 have read it');
  assert.equal(missingText(t), 'Not yet: bo');
  t = ackTally(m, ['ana', 'bo', 'cy', 'teacher']);
  assert.equal(tallyText(t), '1 of 3 have read it');
  assert.equal(missingText(t), 'Not yet: bo, cy');
  // Who read it and went offline still counts as read.
  t = ackTally(announcement(['ana', 'bo']), ['bo', 'teacher']);
  assert.deepEqual(t, { read: ['ana', 'bo'], missing: [], total: 2 });
  assert.equal(tallyText(t), 'All 2 have read it');
  assert.equal(missingText(t), '');
  assert.equal(tallyText(ackTally(announcement(), ['teacher'])), 'Nobody else is here yet');
  assert.equal(tallyText(ackTally(announcement(['ana']), ['ana', 'TEACHER'])), 'Read by the only other person here');
  assert.equal(seesMissing(m, 'Teacher', false), true, 'the sender sees who has not read it');
  assert.equal(seesMissing(m, 'bo', true), true, 'and moderators');
  assert.equal(seesMissing(m, 'bo', false), false);
});

test('an acknowledgement arrives as message_updated and changes the tally', () => {
  const s = online('bo');
  applyEvent(s, server({ type: 'history', room: 'maths', messages: [], has_more: false }));
  applyEvent(s, server({ type: 'message', room: 'maths', id: 70, seq: 1, from: 'teacher', text: 'Exam', ts: 1, client_id: 'c', announcement: { acks: [] } }));
  const held = s.convs.get('maths').bySeq.get(1);
  assert.equal(canAcknowledge(held, 'bo'), true);
  applyEvent(s, server({ type: 'message_updated', room: 'maths', id: 70, seq: 1, from: 'teacher', text: 'Exam', ts: 1, client_id: 'c', announcement: { acks: ['bo'] }, rev: 3 }));
  assert.equal(canAcknowledge(held, 'bo'), false);
  assert.equal(tallyText(ackTally(held, s.convs.get('maths').members)), 'Read by the only other person here');
  applyEvent(s, server({ type: 'member_joined', room: 'maths', nick: 'cy' }));
  assert.equal(tallyText(ackTally(held, s.convs.get('maths').members)), '1 of 2 have read it');
});

test('a pending announcement shows as one until its ack', () => {
  const s = online('teacher');
  addPending(s, { client_id: 'a1', room: 'maths', text: 'Read this', announce: true });
  assert.deepEqual(s.convs.get('maths').pending.get('a1').announcement, { acks: [] });
  // The app's `queued` event carries `announce: true` too.
  applyEvent(s, { kind: 'queued', client_id: 'a2', room: 'maths', text: 'And this', announce: true });
  assert.deepEqual(s.convs.get('maths').pending.get('a2').announcement, { acks: [] });
  applyEvent(s, server({ type: 'ack', client_id: 'a1', room: 'maths', id: 1, seq: 1, ts: 5, duplicate: false }));
  assert.deepEqual(s.convs.get('maths').bySeq.get(1).announcement, { acks: [] });
});

test('muted and removed lists come from room_state, are told as lines, and last until the next joined', () => {
  const s = online();
  applyEvent(s, server({ type: 'room_state', room: 'maths', locked: false, slow_mode_s: 0, by: 'teacher', muted: ['Bo'] }));
  assert.deepEqual(s.muted.get('maths'), ['Bo']);
  assert.equal(mutedHere(s, 'maths'), false);
  assert.equal(mutedHere(s, 'maths', 'bo'), true);
  assert.deepEqual(notices(s, 'maths'), ['teacher muted Bo']);
  assert.deepEqual(memberEntries(s, s.convs.get('maths'), false).map((m) => [m.nick, m.muted, m.actions]), [
    ['ana', false, false], ['bo', true, false], ['teacher', false, false],
  ]);
  assert.deepEqual(memberEntries(s, s.convs.get('maths'), true).map((m) => m.actions), [false, true, true], 'never on oneself');
  // An unmute leaves the field out (§7.19: only when not empty).
  applyEvent(s, server({ type: 'room_state', room: 'maths', locked: false, slow_mode_s: 0, by: 'teacher', removed: ['cy'] }));
  assert.equal(s.muted.has('maths'), false);
  assert.deepEqual(removedEntries(s, true), ['cy']);
  assert.deepEqual(removedEntries(s, false), [], 'only moderators see who was removed');
  assert.deepEqual(notices(s, 'maths').slice(1), ['teacher unmuted Bo', 'teacher removed cy from the room']);
  // Told on joining (no `by`): the state, without lines.
  applyEvent(s, server({ type: 'joined', room: 'maths', topic: '', members: ['ana'], last_seq: 0, last_rev: 0 }));
  assert.equal(s.removed.has('maths'), false, 'a new joined forgets what the room says again after it');
  applyEvent(s, server({ type: 'room_state', room: 'maths', locked: false, slow_mode_s: 0, muted: ['ana'] }));
  assert.equal(mutedHere(s, 'maths'), true);
  assert.equal(notices(s, 'maths').length, 3);
  assert.equal(mutedNote('maths'), 'A moderator muted you in #maths: you can still read, vote and react');
  assert.deepEqual(changeNotices({ muted: ['ana'], removed: [] }, { muted: [], removed: ['ana'] }, 'teacher', 'Ana'), [
    'teacher unmuted you', 'teacher removed you from the room',
  ]);
});

test('removed: the room closes, the next one opens with a notice, and the rejoin is refused with the reason', () => {
  const s = online();
  applyEvent(s, server({ type: 'room_state', room: 'maths', locked: false, slow_mode_s: 0, by: 'teacher', removed: ['Ana'] }));
  const effects = applyEvent(s, server({ type: 'left', room: 'maths' }));
  assert.equal(s.convs.has('maths'), false, 'the room is closed');
  assert.equal(s.active, 'lobby', 'the next joined room is on screen');
  assert.deepEqual(effects.filter((e) => e.type === 'active'), [{ type: 'active', room: 'lobby' }]);
  assert.deepEqual(notices(s, 'lobby'), ['A moderator removed you from #maths. Only a moderator can let you back in.']);
  assert.equal(s.removed.has('maths'), false);
  // The user tries again: the server refuses, and says why in the room.
  setActive(s, 'maths');
  applyEvent(s, server({ type: 'error', code: 'removed_from_room', room: 'maths', message: 'a moderator removed you from maths' }));
  assert.equal(s.convs.get('maths').joining, false);
  assert.deepEqual(notices(s, 'maths'), ['a moderator removed you from maths']);
});

test('a member_left about the user with reason removed closes the room too; about others room_state tells it', () => {
  const s = online();
  applyEvent(s, server({ type: 'member_left', room: 'maths', nick: 'bo', reason: 'removed' }));
  applyEvent(s, server({ type: 'room_state', room: 'maths', locked: false, slow_mode_s: 0, by: 'teacher', removed: ['bo'] }));
  assert.deepEqual(s.convs.get('maths').members, ['ana', 'teacher']);
  assert.deepEqual(notices(s, 'maths'), ['teacher removed bo from the room'], 'one line, naming who did it');
  applyEvent(s, server({ type: 'member_left', room: 'maths', nick: 'ANA', reason: 'removed' }));
  assert.equal(s.convs.has('maths'), false);
  assert.equal(s.active, 'lobby');
  applyEvent(s, server({ type: 'left', room: 'maths' }));
  assert.equal(notices(s, 'lobby').length, 1, 'told once');
  // Leaving on purpose closes the room without a word.
  applyEvent(s, server({ type: 'left', room: 'lobby' }));
  assert.equal(s.convs.has('lobby'), false);
});

test('the pinned message: set, kept current, never older, taken down', () => {
  const s = online();
  const msg = { room: 'maths', id: 50, seq: 42, from: 'teacher', text: 'Homework: page 12', ts: 1, client_id: 'p' };
  applyEvent(s, server({ type: 'pinned', room: 'maths', message: msg }));
  assert.equal(s.pinned.get('maths').text, 'Homework: page 12');
  assert.deepEqual(notices(s, 'maths'), [], 'told after joined: no line');
  applyEvent(s, server({ type: 'message_updated', ...msg, text: 'Homework: page 13', edited_ms: 2, rev: 5 }));
  assert.equal(s.pinned.get('maths').text, 'Homework: page 13', 'an edit shows in the bar');
  applyEvent(s, server({ type: 'message_updated', ...msg, text: 'stale', rev: 4 }));
  assert.equal(s.pinned.get('maths').text, 'Homework: page 13', 'an older revision never replaces a newer one');
  applyEvent(s, server({ type: 'message_updated', ...msg, seq: 43, text: 'another', rev: 6 }));
  assert.equal(s.pinned.get('maths').text, 'Homework: page 13');
  applyEvent(s, server({ type: 'pinned', room: 'maths', by: 'teacher' }));
  assert.equal(s.pinned.has('maths'), false);
  assert.deepEqual(notices(s, 'maths'), ['teacher unpinned the message']);
  applyEvent(s, server({ type: 'pinned', room: 'maths', message: msg, by: 'teacher' }));
  assert.deepEqual(notices(s, 'maths').at(-1), 'teacher pinned a message from teacher');
  applyEvent(s, server({ type: 'message_updated', ...msg, text: '', deleted: true, rev: 9 }));
  assert.equal(s.pinned.has('maths'), false, 'a deleted message is not shown pinned');
  // A new connection: the pin is told again after joined.
  applyEvent(s, server({ type: 'pinned', room: 'maths', message: msg }));
  applyEvent(s, server({ type: 'welcome', nick: 'ana', rooms: [{ room: 'maths' }], dms: [] }));
  assert.equal(s.pinned.size, 0);
});
