// Unit tests of what the UI does with accounts and certificates: identity from `welcome`, `registered` and
// `logged_out`, refusals of `register`, the `untrusted` state, and the checks on the register form and sign-in
// refusals. No DOM: `node --test ui/test/*.test.mjs`.

import test from 'node:test';
import assert from 'node:assert/strict';

import { createState, startSession, setActive } from '../js/state.js';
import { applyEvent } from '../js/events.js';
import { passwordProblem, MIN_PASSWORD_CHARS } from '../js/account.js';
import { signInHint } from '../js/connect.js';

function welcomed(identity) {
  const s = createState();
  startSession(s, { url: 'ws://127.0.0.1:7878/ws', nick: 'ana' }, null);
  applyEvent(s, { kind: 'server', event: { type: 'welcome', nick: 'ana', identity, rooms: [], dms: [] } });
  applyEvent(s, { kind: 'state', state: 'online' });
  setActive(s, 'lobby');
  return s;
}

function notices(s) {
  return s.convs.get('lobby').notices.map((n) => n.text);
}

test('the welcome says how the nickname is held; an old server means guest', () => {
  assert.equal(welcomed('device').identity, 'device');
  assert.equal(welcomed('account').identity, 'account');
  assert.equal(welcomed(undefined).identity, 'guest');
  const fresh = createState();
  assert.equal(fresh.identity, '', 'nothing is shown before the welcome');
});

test('registering turns the identity into an account and says so', () => {
  const s = welcomed('device');
  s.account = { pending: true, error: '' };
  applyEvent(s, { kind: 'server', event: { type: 'registered', nick: 'ana' } });
  assert.equal(s.identity, 'account');
  assert.deepEqual(s.account, { pending: false, error: '' });
  assert.match(notices(s).at(-1), /registered ana/);
});

test('a refused registration goes to the waiting dialog, not the conversation', () => {
  const s = welcomed('guest');
  s.account = { pending: true, error: '' };
  const message = 'a password needs 8 to 256 characters';
  applyEvent(s, { kind: 'server', event: { type: 'error', code: 'weak_password', message } });
  assert.deepEqual(s.account, { pending: false, error: message });
  assert.equal(s.identity, 'guest');
  assert.deepEqual(notices(s), []);
  // With no dialog waiting, the same code is an ordinary notice.
  applyEvent(s, { kind: 'server', event: { type: 'error', code: 'not_signed_in', message: 'only a registered nickname…' } });
  assert.deepEqual(notices(s), ['only a registered nickname…']);
});

test('logging out everywhere says how many sign-ins ended and what comes next', () => {
  const s = welcomed('account');
  applyEvent(s, { kind: 'server', event: { type: 'logged_out', sessions: 3 } });
  assert.match(notices(s).at(-1), /3 sign-ins ended.*password/);
  applyEvent(s, { kind: 'server', event: { type: 'logged_out', sessions: 1 } });
  assert.match(notices(s).at(-1), /1 sign-in ended/);
});

test('an untrusted certificate keeps both fingerprints for the dialog', () => {
  const s = welcomed('guest');
  const expected = 'aaaa '.repeat(16).trim();
  const presented = 'bbbb '.repeat(16).trim();
  applyEvent(s, { kind: 'state', state: 'untrusted', reason: 'the certificate changed', expected, presented });
  assert.equal(s.conn.state, 'untrusted');
  assert.equal(s.conn.reason, 'the certificate changed');
  assert.equal(s.conn.expected, expected);
  assert.equal(s.conn.presented, presented);
  applyEvent(s, { kind: 'state', state: 'connecting' });
  assert.equal(s.conn.presented, undefined, 'a new connection forgets them');
});

test('a new password must be long enough and typed the same twice', () => {
  const long = 'x'.repeat(MIN_PASSWORD_CHARS);
  assert.equal(passwordProblem(long, long), '');
  assert.match(passwordProblem('', ''), /Type a password/);
  assert.match(passwordProblem('short', 'short'), /at least 8/);
  assert.match(passwordProblem('ééééééé', 'ééééééé'), /at least 8/, 'characters, not bytes');
  assert.match(passwordProblem(long, `${long}y`), /not the same/);
});

test('sign-in refusals point at the field to fix', () => {
  for (const reason of [
    'this nickname is registered; sign in with its password',
    "that is not this nickname's password",
    'this sign-in has expired or was revoked; sign in again with your password',
  ]) {
    assert.equal(signInHint(reason).field, 'account-password', reason);
    assert.match(signInHint(reason).hint, /Password for my nickname/);
  }
  assert.equal(signInHint("that is not the server's password").field, '', 'the server password is another field');
  assert.equal(signInHint('this nickname belongs to another device; choose another nickname').field, 'nick');
  assert.deepEqual(signInHint(''), { field: '', hint: '' });
});
