// Unit tests of room rules in the UI: `moderating` and `room_state` events, the notices they leave, the rules line
// and its countdown, and that a new connection forgets both until the server says them again. No DOM.

import test from 'node:test';
import assert from 'node:assert/strict';

import { createState, startSession, setActive } from '../js/state.js';
import { applyEvent } from '../js/events.js';
import { countdown, rulesText } from '../js/selectors.js';

function online() {
  const s = createState();
  startSession(s, { url: 'ws://127.0.0.1:7878/ws', nick: 'ana' }, null);
  applyEvent(s, { kind: 'server', event: { type: 'welcome', nick: 'ana', rooms: [{ room: 'lobby' }], dms: [] } });
  applyEvent(s, { kind: 'state', state: 'online' });
  setActive(s, 'lobby');
  return s;
}

const server = (event) => ({ kind: 'server', event });
const notices = (s) => s.convs.get('lobby').notices.map((n) => n.text);

test('a lock by a moderator is kept, noted once, and its end is noted', () => {
  const s = online();
  applyEvent(s, server({ type: 'room_state', room: 'lobby', locked: true, locked_until_ms: 301_000, slow_mode_s: 0, by: 'teacher' }), 1_000);
  assert.deepEqual(s.rules.get('lobby'), { locked: true, lockedUntilMs: 301_000, slowModeS: 0, by: 'teacher' });
  assert.deepEqual(notices(s), ['teacher locked the room for 5 min: only moderators can write']);
  assert.equal(rulesText(s.rules.get('lobby'), false, 1_000), 'Locked by teacher · unlocks in 5:00: only moderators can write');
  applyEvent(s, server({ type: 'room_state', room: 'lobby', locked: false, slow_mode_s: 0 }));
  assert.equal(s.rules.has('lobby'), false);
  assert.equal(notices(s).at(-1), 'The lock ended: everyone can write again');
});

test('the state told on joining is shown but not announced; slow mode reads as a sentence', () => {
  const s = online();
  applyEvent(s, server({ type: 'room_state', room: 'lobby', locked: false, slow_mode_s: 10 }));
  assert.deepEqual(notices(s), []);
  assert.equal(rulesText(s.rules.get('lobby'), false), 'Slow mode: one message every 10 s');
  assert.equal(rulesText(s.rules.get('lobby'), true), 'Slow mode: one message every 10 s (not for you)');
  applyEvent(s, server({ type: 'room_state', room: 'lobby', locked: false, slow_mode_s: 0, by: 'teacher' }));
  assert.deepEqual(notices(s), ['teacher turned slow mode off']);
});

test('moderator rights and rules last one connection', () => {
  const s = online();
  applyEvent(s, server({ type: 'moderating' }));
  applyEvent(s, server({ type: 'room_state', room: 'lobby', locked: true, slow_mode_s: 0, by: 'ana' }));
  assert.equal(s.moderating, true);
  assert.equal(rulesText(s.rules.get('lobby'), true), 'Locked by ana · you can still write');
  applyEvent(s, server({ type: 'welcome', nick: 'ana', rooms: [{ room: 'lobby' }], dms: [] }));
  assert.equal(s.moderating, false);
  assert.equal(s.rules.size, 0);
});

test('countdowns round up and never go negative', () => {
  assert.equal(countdown(299_001), '5:00');
  assert.equal(countdown(59_000), '0:59');
  assert.equal(countdown(-5), '0:00');
  assert.equal(rulesText(null, false), '');
});

test('raised hands are kept per room in order; being called on leaves a notice', () => {
  const s = online();
  applyEvent(s, server({ type: 'hands', room: 'lobby', raised: ['bo', 'ana'] }));
  assert.deepEqual(s.hands.get('lobby'), ['bo', 'ana']);
  applyEvent(s, server({ type: 'called_on', room: 'lobby', nick: 'Ana', by: 'teacher' }));
  applyEvent(s, server({ type: 'hands', room: 'lobby', raised: [] }));
  assert.equal(s.hands.has('lobby'), false);
  assert.deepEqual(notices(s), ['teacher called on you']);
  applyEvent(s, server({ type: 'hands', room: 'lobby', raised: ['bo'] }));
  applyEvent(s, server({ type: 'welcome', nick: 'ana', rooms: [{ room: 'lobby' }], dms: [] }));
  assert.equal(s.hands.size, 0, 'a new connection hears the queue again after joining');
});
