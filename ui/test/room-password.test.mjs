// Rooms with a password: the UI's flow (ui/js/room-password.js through applyEvent: a refused join asks for the
// password without a notice, the join is repeated once with it, a wrong one is said, `joined` ends it, cancelling
// leaves the room unjoined with a line saying how to try again), the lock in the room list, and the browser's
// connection (ui/js/web-session.js, ui/js/web-bridge.js): `join.password` and `create_room.password` are sent,
// the password goes only with the join that answers the refusal, never with a later resume.

import { test } from 'node:test';
import assert from 'node:assert/strict';

import { createState, startSession, setActive } from '../js/state.js';
import { applyEvent } from '../js/events.js';
import { roomEntries } from '../js/selectors.js';
import {
  submitRoomPassword, cancelRoomPassword, roomPasswordProblem, roomPasswordSendFailed, MAX_ROOM_PASSWORD_CHARS,
} from '../js/room-password.js';
import { WebSession } from '../js/web-session.js';
import { createWebBridge } from '../js/web-bridge.js';
import { FakeSocket } from './fake-socket.mjs';

const server = (event) => ({ kind: 'server', event });
const refused = (code, room = 'maths') => server({ type: 'error', code, message: `${code} for ${room}`, room });

function online() {
  const s = createState();
  startSession(s, { url: 'ws://127.0.0.1:7878/ws', nick: 'ana' }, null);
  applyEvent(s, server({ type: 'welcome', nick: 'ana', rooms: [{ room: 'lobby', topic: '', members: 1 }, { room: 'maths', topic: '', members: 2, has_password: true }], dms: [] }));
  applyEvent(s, { kind: 'state', state: 'online' });
  applyEvent(s, server({ type: 'joined', room: 'lobby', topic: '', members: ['ana'], last_seq: 0, last_rev: 0 }));
  return s;
}

test('rooms with a password carry a lock in the list, from welcome and room_created', () => {
  const s = online();
  applyEvent(s, server({ type: 'room_created', room: 'secret', topic: '', members: 0, has_password: true }));
  applyEvent(s, server({ type: 'room_created', room: 'open', topic: '', members: 0 }));
  const locks = Object.fromEntries(roomEntries(s).map((r) => [r.key, r.hasPassword]));
  assert.deepEqual(locks, { lobby: false, maths: true, open: false, secret: true });
  applyEvent(s, server({ type: 'room_list', rooms: [{ room: 'maths', topic: '', members: 2 }] }));
  assert.equal(roomEntries(s).find((r) => r.key === 'maths').hasPassword, false, 'a moderator removed it');
});

test('a refused join asks for the password, joins again with it once, and joined ends the question', () => {
  const s = online();
  const effects = setActive(s, 'maths');
  assert.deepEqual(effects.filter((e) => e.type === 'join'), [{ type: 'join', room: 'maths' }], 'the first join has none');
  applyEvent(s, refused('room_password_required'));
  const c = s.convs.get('maths');
  assert.deepEqual(s.roomPassword, { room: 'maths', wrong: false, pending: false });
  assert.equal(c.joining, false);
  assert.deepEqual(c.notices, [], 'asked in a dialog, not told in the conversation');

  assert.deepEqual(submitRoomPassword(s, ''), [], 'nothing typed: nothing sent');
  assert.deepEqual(submitRoomPassword(s, 'blue whale'), [{ type: 'join', room: 'maths', password: 'blue whale' }]);
  assert.deepEqual(submitRoomPassword(s, 'blue whale'), [], 'one join at a time');
  assert.equal(c.joining, true);

  applyEvent(s, refused('wrong_room_password'));
  assert.deepEqual(s.roomPassword, { room: 'maths', wrong: true, pending: false });
  assert.deepEqual(c.notices, []);

  assert.deepEqual(submitRoomPassword(s, 'Blue Whale'), [{ type: 'join', room: 'maths', password: 'Blue Whale' }]);
  assert.equal(s.roomPassword.wrong, false);
  applyEvent(s, server({ type: 'joined', room: 'maths', topic: '', members: ['ana', 'teacher'], last_seq: 4, last_rev: 0 }));
  assert.equal(s.roomPassword, null);
  assert.equal(c.joined, true);
});

test('cancelling leaves the room unjoined and says how to try again', () => {
  const s = online();
  setActive(s, 'maths');
  applyEvent(s, refused('room_password_required'));
  cancelRoomPassword(s);
  assert.equal(s.roomPassword, null);
  const c = s.convs.get('maths');
  assert.equal(c.joined, false);
  assert.match(c.notices.map((n) => n.text).join(), /#maths needs its password/);
  // Opening it again asks the server again (which asks for the password again).
  s.active = 'lobby';
  assert.deepEqual(setActive(s, 'maths').filter((e) => e.type === 'join'), [{ type: 'join', room: 'maths' }]);
});

test('a join the bridge could not send may be submitted again; so after a dropped connection', () => {
  const s = online();
  setActive(s, 'maths');
  applyEvent(s, refused('room_password_required'));
  submitRoomPassword(s, 'pw');
  roomPasswordSendFailed(s, 'maths');
  assert.equal(s.roomPassword.pending, false);
  submitRoomPassword(s, 'pw');
  applyEvent(s, { kind: 'state', state: 'reconnecting', attempt: 1, retry_in_ms: 500, reason: 'lost' });
  assert.equal(s.roomPassword.pending, false);
  assert.equal(submitRoomPassword(s, 'pw').length, 1);
});

test('other refusals stay notices', () => {
  const s = online();
  setActive(s, 'maths');
  applyEvent(s, refused('removed_from_room'));
  assert.equal(s.roomPassword, null);
  assert.equal(s.convs.get('maths').notices.length, 1);
});

test('what may be typed as a room password', () => {
  assert.match(roomPasswordProblem(''), /Type/);
  assert.equal(roomPasswordProblem('', { required: false }), '');
  assert.equal(roomPasswordProblem('a'.repeat(MAX_ROOM_PASSWORD_CHARS)), '');
  assert.match(roomPasswordProblem('a'.repeat(MAX_ROOM_PASSWORD_CHARS + 1)), /at most 128/);
  assert.match(roomPasswordProblem('tab\there'), /control/);
  assert.equal(roomPasswordProblem('blue whale 🐋'), '');
});

// --- The browser's connection -----------------------------------------------------------------------------------

function connection() {
  const sockets = [];
  const timers = [];
  const session = new WebSession({
    url: 'ws://10.0.0.5:7878/ws',
    nick: 'ana',
    credentials: {},
    onEvent: () => {},
    options: {
      openSocket: (url) => {
        const socket = new FakeSocket(url);
        sockets.push(socket);
        return socket;
      },
      timers: { setTimeout: (fn, ms) => timers.push({ fn, ms }) && timers.length, clearTimeout: () => {} },
      random: () => 0.5,
    },
  });
  const last = () => sockets[sockets.length - 1];
  const welcome = () => last().deliver({ type: 'welcome', protocol: 1, nick: 'ana', rooms: [], dms: [], identity: 'guest' });
  const reconnect = () => {
    last().drop();
    timers.filter((t) => t.ms !== 25000).pop().fn();
    last().open();
    welcome();
  };
  session.start();
  last().open();
  welcome();
  return { session, last, reconnect, joins: () => last().sent.filter((f) => f.type === 'join') };
}

test('web: the password goes with that join only, and its repeat before joined', () => {
  const { session, last, reconnect, joins } = connection();
  session.join('maths');
  last().deliver({ type: 'error', code: 'room_password_required', message: 'needs a password', room: 'maths' });
  session.join('maths', 'blue whale');
  assert.deepEqual(joins(), [{ type: 'join', room: 'maths' }, { type: 'join', room: 'maths', password: 'blue whale' }]);

  reconnect(); // Dropped before `joined`: the repeat still carries it.
  assert.deepEqual(joins(), [{ type: 'join', room: 'maths', password: 'blue whale' }]);

  last().deliver({ type: 'joined', room: 'maths', topic: '', members: ['ana'], last_seq: 3, last_rev: 1 });
  assert.equal(session.roomPasswords.size, 0, 'not kept a moment longer than needed');
  reconnect(); // Entered: the server remembers the nickname; the resume has no password.
  assert.deepEqual(joins(), [{ type: 'join', room: 'maths', after: 3, after_rev: 1 }]);
});

test('web: a refused join is not repeated by a reconnect, nor is a wrong password', () => {
  const { session, last, reconnect, joins } = connection();
  session.join('maths');
  last().deliver({ type: 'error', code: 'room_password_required', message: 'needs a password', room: 'maths' });
  reconnect();
  assert.deepEqual(joins(), [], 'nobody asked for it again');
  session.join('maths', 'wrong');
  last().deliver({ type: 'error', code: 'wrong_room_password', message: 'wrong', room: 'maths' });
  reconnect();
  assert.deepEqual(joins(), []);
  session.join('lobby');
  reconnect();
  assert.deepEqual(joins(), [{ type: 'join', room: 'lobby' }], 'other rooms still rejoin');
});

test('web bridge: create_room and join carry the password only when given', async () => {
  const sockets = [];
  const bridge = createWebBridge(
    { protocol: 'http:', host: '10.0.0.5:7878' },
    {
      openSocket: (url) => {
        const socket = new FakeSocket(url);
        sockets.push(socket);
        return socket;
      },
      Notification: null,
    },
  );
  await bridge.connect({ nick: 'ana', password: '', accountPassword: '' }, () => {});
  const socket = sockets[0];
  socket.open();
  socket.deliver({ type: 'welcome', protocol: 1, nick: 'ana', rooms: [], dms: [], identity: 'guest' });
  await bridge.createRoom({ room: 'secret', topic: '', password: 'blue whale' });
  await bridge.createRoom({ room: 'open', topic: '' });
  await bridge.join({ room: 'secret' });
  await bridge.join({ room: 'maths', password: 'pw' });
  await bridge.search({ room: 'maths', query: 'fractions' });
  await bridge.search({ room: 'maths', query: 'fractions', before: 40 });
  const frames = socket.sent.filter((f) => f.type !== 'hello');
  assert.deepEqual(frames, [
    { type: 'create_room', room: 'secret', password: 'blue whale' },
    { type: 'create_room', room: 'open' },
    { type: 'join', room: 'secret' },
    { type: 'join', room: 'maths', password: 'pw' },
    { type: 'search', room: 'maths', query: 'fractions' },
    { type: 'search', room: 'maths', query: 'fractions', before: 40 },
  ]);
  await assert.rejects(bridge.setRoomPassword({ room: 'maths', password: 'x' }), { code: 'invalid_input' });
  await assert.rejects(bridge.exportRoom({ room: 'maths', format: 'md' }), { code: 'invalid_input' });
  assert.equal(bridge.features.links, false);
  assert.equal(bridge.openLink, undefined, 'links open in a new tab by themselves');
  await bridge.disconnect();
});
