// The web bridge's connection logic (ui/js/web-session.js) against a fake WebSocket and hand-driven timers:
// backoff bounds, the hello, resuming rooms from their last seq, resending pending messages with their client_id,
// the duplicate filter, and that session tokens never reach the UI.

import { test } from 'node:test';
import assert from 'node:assert/strict';

import { WebSession, backoffDelay, newClientId, BACKOFF } from '../js/web-session.js';
import { FakeSocket } from './fake-socket.mjs';

function harness(credentials = {}) {
  const sockets = [];
  const events = [];
  const timers = [];
  const saved = [];
  const session = new WebSession({
    url: 'ws://10.0.0.5:7878/ws',
    nick: 'ana',
    credentials,
    onEvent: (e) => events.push(e),
    options: {
      openSocket: (url) => {
        const s = new FakeSocket(url);
        sockets.push(s);
        return s;
      },
      saveToken: (t) => saved.push(t),
      timers: {
        setTimeout: (fn, ms) => {
          const t = { fn, ms, cleared: false };
          timers.push(t);
          return t;
        },
        clearTimeout: (t) => {
          if (t) t.cleared = true;
        },
      },
      random: () => 0.5,
    },
  });
  const last = () => sockets[sockets.length - 1];
  /** Runs the pending reconnect timer (the one that is not the liveness check). */
  const fireRetry = () => {
    const t = timers.filter((x) => !x.cleared && x.ms !== 25000).pop();
    t.cleared = true;
    t.fn();
  };
  return { session, sockets, events, timers, saved, last, fireRetry };
}

const welcome = (extra = {}) => ({ type: 'welcome', protocol: 1, nick: 'ana', rooms: [], dms: [], identity: 'guest', ...extra });
const message = (room, seq, text = `m${seq}`) => ({ type: 'message', room, id: seq, seq, from: 'bob', text, ts: 1, client_id: `c${seq}` });

test('backoff doubles to the cap with at most 20 % jitter', () => {
  assert.equal(backoffDelay(1, 0.5), 1000);
  assert.equal(backoffDelay(3, 0.5), 4000);
  assert.equal(backoffDelay(10, 0.5), BACKOFF.maxMs);
  for (const attempt of [1, 2, 5, 12]) {
    const base = Math.min(30000, 1000 * 2 ** (attempt - 1));
    assert.ok(backoffDelay(attempt, 0) >= base * 0.8 && backoffDelay(attempt, 0.999999) <= base * 1.2);
  }
});

test('client ids are UUIDs even without crypto.randomUUID', () => {
  const fallback = newClientId({ getRandomValues: (a) => a.fill(0xab) });
  assert.match(fallback, /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
  assert.notEqual(newClientId(), newClientId());
});

test('hello carries the server password and the account password, and the token stays inside', () => {
  const h = harness({ password: 'door', accountPassword: 'secret pass' });
  h.session.start();
  h.last().open();
  assert.deepEqual(h.last().sent[0], {
    type: 'hello', protocol: 1, nick: 'ana', client: 'parlor-web', password: 'door', auth: { password: 'secret pass' },
  });
  h.last().deliver(welcome({ identity: 'account', session_token: 'a'.repeat(64) }));
  assert.deepEqual(h.saved, ['a'.repeat(64)]);
  const shown = h.events.find((e) => e.kind === 'server' && e.event.type === 'welcome');
  assert.equal('session_token' in shown.event, false, 'the UI never sees the token');
  assert.deepEqual(h.events.map((e) => e.state).filter(Boolean), ['connecting', 'online']);

  // The next connection signs in with the token, not the password.
  h.last().drop();
  h.fireRetry();
  h.last().open();
  assert.deepEqual(h.last().sent[0].auth, { token: 'a'.repeat(64) });
});

test('a reconnect resumes rooms from their last seq and resends pending messages with the same client_id', () => {
  const h = harness();
  h.session.start();
  h.last().open();
  h.last().deliver(welcome());
  h.session.join('lobby');
  h.last().deliver({ type: 'joined', room: 'lobby', topic: '', members: ['ana'], last_seq: 4 });
  h.last().deliver(message('lobby', 5));
  h.last().deliver(message('@bob', 2));

  h.last().drop(1001);
  const reconnecting = h.events.filter((e) => e.state === 'reconnecting');
  assert.deepEqual(reconnecting, [{ kind: 'state', state: 'reconnecting', attempt: 1, retry_in_ms: 1000, reason: 'the server is restarting' }]);
  const id = h.session.send('lobby', 'written offline');
  assert.deepEqual(h.events.at(-1), { kind: 'queued', client_id: id, room: 'lobby', text: 'written offline' });
  assert.throws(() => h.session.join('maths'), { code: 'not_connected' });

  h.fireRetry();
  h.last().open();
  h.last().deliver(welcome({ dms: [{ room: '@bob', last_seq: 3 }, { room: '@cy', last_seq: 9 }] }));
  assert.deepEqual(h.last().sent.slice(1), [
    { type: 'join', room: 'lobby', after: 5 },
    { type: 'join', room: '@bob', after: 2 },
    { type: 'send', room: 'lobby', text: 'written offline', client_id: id },
  ]);

  // The replay repeats what was already shown: it is dropped; the new one passes.
  const before = h.events.length;
  h.last().deliver(message('lobby', 5));
  h.last().deliver(message('lobby', 6));
  assert.deepEqual(h.events.slice(before).map((e) => e.event.seq), [6]);

  // Acknowledged: a later reconnect has nothing to resend.
  h.last().deliver({ type: 'ack', client_id: id, room: 'lobby', id: 7, seq: 7, ts: 1, duplicate: false });
  h.last().drop();
  h.fireRetry();
  h.last().open();
  h.last().deliver(welcome());
  assert.deepEqual(h.last().sent.slice(1), [{ type: 'join', room: 'lobby', after: 6 }]);
});

test('refusals of hello that retrying cannot fix end in offline; a refused send stops being pending', () => {
  const h = harness();
  h.session.start();
  h.last().open();
  h.last().deliver({ type: 'error', code: 'nick_taken', message: 'the nickname "ana" is in use' });
  assert.deepEqual(h.events.at(-1), { kind: 'state', state: 'offline', reason: 'the nickname "ana" is in use' });

  const g = harness();
  g.session.start();
  g.last().open();
  g.last().deliver(welcome());
  const id = g.session.send('lobby', '\u202eevil');
  g.last().deliver({ type: 'error', code: 'invalid_text', message: 'no bidi', room: 'lobby', client_id: id });
  g.last().drop();
  g.fireRetry();
  g.last().open();
  g.last().deliver(welcome());
  assert.equal(g.last().sent.filter((f) => f.type === 'send').length, 0);
});

test('a poll and a reply are sent, queued and resent with their client_id and what they carry', () => {
  const h = harness();
  h.session.start();
  h.last().open();
  h.last().deliver(welcome());
  h.session.join('maths');
  h.last().deliver({ type: 'joined', room: 'maths', topic: '', members: ['ana'], last_seq: 41, last_rev: 0 });
  const poll = h.session.send('maths', 'Which is prime?', { poll: { options: ['9', '11', '15'], multiple: false } });
  const reply = h.session.send('maths', 'me too', { replyTo: 41 });
  assert.deepEqual(h.events.slice(-2), [
    { kind: 'queued', client_id: poll, room: 'maths', text: 'Which is prime?', poll: { options: ['9', '11', '15'], multiple: false } },
    { kind: 'queued', client_id: reply, room: 'maths', text: 'me too', reply_to: 41 },
  ]);
  const frames = [
    { type: 'send', room: 'maths', text: 'Which is prime?', client_id: poll, poll: { options: ['9', '11', '15'], multiple: false } },
    { type: 'send', room: 'maths', text: 'me too', client_id: reply, reply_to: 41 },
  ];
  assert.deepEqual(h.last().sent.slice(-2), frames);

  // Neither was acknowledged before the drop: both go out again, the same.
  h.last().drop();
  h.fireRetry();
  h.last().open();
  h.last().deliver(welcome());
  assert.deepEqual(h.last().sent.slice(1), [{ type: 'join', room: 'maths', after: 41, after_rev: 0 }, ...frames]);
});

test('a resume asks for the changes since the highest revision seen', () => {
  const h = harness();
  h.session.start();
  h.last().open();
  h.last().deliver(welcome());
  h.session.join('lobby');
  h.session.join('@bob');
  h.last().deliver({ type: 'joined', room: 'lobby', topic: '', members: ['ana'], last_seq: 10, last_rev: 12 });
  h.last().deliver({ type: 'joined', room: '@bob', topic: '', members: ['ana'], last_seq: 2, last_rev: 1 });
  h.last().deliver({ type: 'message_updated', room: 'lobby', id: 3, seq: 3, from: 'bob', text: 'x', ts: 1, client_id: 'c3', rev: 15 });
  h.last().deliver({ type: 'message_updated', room: 'lobby', id: 4, seq: 4, from: 'bob', text: 'y', ts: 1, client_id: 'c4', rev: 14 });
  assert.equal(h.events.filter((e) => e.event && e.event.type === 'message_updated').length, 2, 'updates reach the UI');

  h.last().drop();
  h.fireRetry();
  h.last().open();
  // The DM did not grow, but its messages may have changed: it is resumed too.
  h.last().deliver(welcome({ dms: [{ room: '@bob', last_seq: 2 }] }));
  assert.deepEqual(h.last().sent.slice(1), [
    { type: 'join', room: 'lobby', after: 10, after_rev: 15 },
    { type: 'join', room: '@bob', after: 2, after_rev: 1 },
  ]);

  // The server's data was reset: its smaller revision is the one to resume from next time.
  h.last().deliver({ type: 'joined', room: 'lobby', topic: '', members: ['ana'], last_seq: 10, last_rev: 3 });
  h.last().drop();
  h.fireRetry();
  h.last().open();
  h.last().deliver(welcome());
  assert.deepEqual(h.last().sent[1], { type: 'join', room: 'lobby', after: 10, after_rev: 3 });
});

test('a room the server took the user out of (`left` unasked, after a removal) is not rejoined after a reconnect', () => {
  const h = harness();
  h.session.start();
  h.last().open();
  h.last().deliver(welcome());
  h.session.join('lobby');
  h.session.join('maths');
  h.last().deliver({ type: 'joined', room: 'lobby', topic: '', members: ['ana'], last_seq: 1 });
  h.last().deliver({ type: 'joined', room: 'maths', topic: '', members: ['ana'], last_seq: 2 });
  h.last().deliver({ type: 'room_state', room: 'maths', locked: false, slow_mode_s: 0, by: 'teacher', removed: ['ana'] });
  h.last().deliver({ type: 'left', room: 'maths' });
  assert.deepEqual(h.events.slice(-2).map((e) => e.event.type), ['room_state', 'left'], 'both reach the UI');
  // Live data, the pin and announcements' acknowledgements pass through as they are.
  h.session.request({ type: 'acknowledge', room: 'lobby', seq: 1 });
  assert.deepEqual(h.last().sent.at(-1), { type: 'acknowledge', room: 'lobby', seq: 1 });
  h.last().deliver({ type: 'data', room: 'lobby', from: 'ticker', ts: 5, points: { random: 0.5 } });
  assert.deepEqual(h.events.at(-1), { kind: 'server', event: { type: 'data', room: 'lobby', from: 'ticker', ts: 5, points: { random: 0.5 } } });

  h.last().drop();
  h.fireRetry();
  h.last().open();
  h.last().deliver(welcome());
  assert.deepEqual(h.last().sent.slice(1), [{ type: 'join', room: 'lobby', after: 1 }]);
});
