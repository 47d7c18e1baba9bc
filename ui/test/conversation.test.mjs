// Unit tests of the conversation window (ui/js/conversation.js) and of how state.js drives it. No DOM, no
// dependencies: `node --test ui/test/*.test.mjs`.

import test from 'node:test';
import assert from 'node:assert/strict';

import {
  WINDOW, REQUEST_TTL_MS, newConv, atNewest, newerCount, oldestSeq, newestSeq, loading, requestOlder, requestNewer,
  requestLatest, jumpToLatest, applyPage, addLive, historyFailed, abandonRequests, addNotice,
} from '../js/conversation.js';
import { createState, setActive, conv, requestOlder as olderIn } from '../js/state.js';
import { applyEvent } from '../js/events.js';
import { timeline } from '../js/selectors.js';

const T0 = 1_700_000_000_000;

function msg(seq, room = 'lobby') {
  return { room, id: seq + 1000, seq, from: seq % 2 ? 'ana' : 'bob', text: `message ${seq}`, ts: T0 + seq * 1000 };
}

/** A `history` reply with messages `from..to` (none when from > to). */
function page(from, to, hasMore) {
  const messages = [];
  for (let s = from; s <= to; s++) messages.push(msg(s));
  return { type: 'history', room: 'lobby', messages, has_more: hasMore };
}

/** What the server would answer to the history effect `e` for a room holding 1..last (pages of 50). */
function serve(e, last) {
  if (e.before != null) return page(Math.max(1, e.before - 50), e.before - 1, e.before - 50 > 1);
  if (e.after != null) return page(e.after + 1, Math.min(last, e.after + 50), e.after + 50 < last);
  return page(Math.max(1, last - 49), last, last > 50);
}

function assertContiguous(c) {
  for (let i = 1; i < c.msgs.length; i++) assert.equal(c.msgs[i].seq, c.msgs[i - 1].seq + 1, 'the window has no holes');
  assert.equal(c.bySeq.size, c.msgs.length, 'the index matches the list');
}

/** A conversation of a 10,000-message room showing its newest page. */
function loaded(last = 10000) {
  const c = newConv('lobby');
  c.lastSeq = last;
  const [e] = requestLatest(c, T0);
  assert.deepEqual({ before: e.before, after: e.after }, { before: null, after: null });
  applyPage(c, serve(e, last), T0);
  return c;
}

test('the newest page fills an empty window', () => {
  const c = loaded();
  assert.equal(c.msgs.length, 50);
  assert.equal(oldestSeq(c), 9951);
  assert.equal(newestSeq(c), 10000);
  assert.ok(c.hasMore);
  assert.ok(atNewest(c));
  assert.equal(loading(c, T0), null);
});

test('paging back through 10,000 messages never holds more than WINDOW', () => {
  const c = loaded();
  let pages = 0;
  let max = 0;
  while (c.hasMore) {
    const effects = requestOlder(c, T0);
    assert.equal(effects.length, 1);
    assert.equal(effects[0].before, oldestSeq(c));
    assert.deepEqual(requestOlder(c, T0), [], 'one request at a time');
    applyPage(c, serve(effects[0], 10000), T0);
    max = Math.max(max, c.msgs.length);
    assertContiguous(c);
    pages++;
    assert.ok(pages < 500, 'paging ends');
  }
  assert.equal(max, WINDOW);
  assert.equal(oldestSeq(c), 1);
  assert.equal(newestSeq(c), WINDOW);
  assert.equal(atNewest(c), false);
  assert.equal(newerCount(c), 10000 - WINDOW);
  assert.deepEqual(requestOlder(c, T0), [], 'nothing older than seq 1');
});

test('paging forward again drops the oldest and reaches the newest', () => {
  const c = loaded();
  for (let i = 0; i < 12; i++) applyPage(c, serve(requestOlder(c, T0)[0], 10000), T0);
  assert.equal(c.msgs.length, WINDOW);
  assert.equal(atNewest(c), false);
  let pages = 0;
  while (!atNewest(c)) {
    const [e] = requestNewer(c, T0);
    assert.equal(e.after, newestSeq(c));
    applyPage(c, serve(e, 10000), T0);
    assert.ok(c.msgs.length <= WINDOW);
    assertContiguous(c);
    assert.ok(++pages < 50);
  }
  assert.equal(newestSeq(c), 10000);
  assert.ok(c.hasMore);
  assert.deepEqual(requestNewer(c, T0), []);
});

test('a live message extends a window at the newest and is only counted otherwise', () => {
  const c = loaded();
  assert.equal(addLive(c, msg(10001)), 'inserted');
  assert.equal(addLive(c, msg(10001)), 'duplicate');
  assert.ok(atNewest(c));
  for (let i = 0; i < 10; i++) applyPage(c, serve(requestOlder(c, T0)[0], 10001), T0);
  assert.equal(atNewest(c), false);
  const newest = newestSeq(c);
  assert.equal(addLive(c, msg(10002)), 'skipped');
  assert.equal(newestSeq(c), newest, 'the window stays contiguous');
  assert.equal(c.lastSeq, 10002);
  assert.equal(newerCount(c), 10002 - newest);
});

test('a full window keeps its oldest messages while the user reads them', () => {
  const c = loaded();
  for (let i = 0; i < 9; i++) applyPage(c, serve(requestOlder(c, T0)[0], 10000), T0);
  assert.equal(c.msgs.length, WINDOW);
  assert.ok(atNewest(c));
  assert.equal(addLive(c, msg(10001), { keepOldest: true }), 'skipped');
  assert.equal(oldestSeq(c), 9501);
  assert.equal(atNewest(c), false);
  // At the bottom, the next one does not fit either: the page after the window brings both.
  assert.equal(addLive(c, msg(10002)), 'skipped');
  applyPage(c, serve(requestNewer(c, T0)[0], 10002), T0);
  assert.equal(newestSeq(c), 10002);
  assert.equal(c.msgs.length, WINDOW);
  assertContiguous(c);
  assert.equal(addLive(c, msg(10003)), 'inserted');
  assert.equal(oldestSeq(c), 9504);
});

test('jumping to the latest ignores the answer to a request it superseded', () => {
  const c = loaded();
  for (let i = 0; i < 20; i++) applyPage(c, serve(requestOlder(c, T0)[0], 10000), T0);
  const [older] = requestOlder(c, T0);
  const [latest] = jumpToLatest(c, T0);
  assert.equal(c.msgs.length, 0);
  assert.equal(loading(c, T0), 'latest');
  assert.equal(applyPage(c, serve(older, 10000), T0), null, 'the superseded page is dropped');
  assert.equal(c.msgs.length, 0);
  applyPage(c, serve(latest, 10000), T0);
  assert.equal(newestSeq(c), 10000);
  assert.ok(atNewest(c));
  assert.deepEqual(jumpToLatest(c, T0), [], 'already there');
});

test('live messages that arrive while the newest page loads are merged with it', () => {
  const c = newConv('lobby');
  c.lastSeq = 100;
  const [e] = requestLatest(c, T0);
  assert.equal(addLive(c, msg(101)), 'inserted');
  applyPage(c, serve(e, 100), T0);
  assert.equal(oldestSeq(c), 51);
  assert.equal(newestSeq(c), 101);
  assertContiguous(c);
});

test('a shell that ignores `after` answers with the newest page, which replaces the window', () => {
  const c = loaded();
  for (let i = 0; i < 30; i++) applyPage(c, serve(requestOlder(c, T0)[0], 10000), T0);
  const [e] = requestNewer(c, T0);
  applyPage(c, serve({ room: 'lobby' }, 10000), T0);
  assert.ok(e.after < 9000);
  assert.equal(newestSeq(c), 10000);
  assert.equal(c.msgs.length, 50);
  assert.ok(c.hasMore);
});

test('an empty page after the window means it is the newest', () => {
  const c = loaded(60);
  c.lastSeq = 70; // Believed, but the server has nothing after 60.
  const [e] = requestNewer(c, T0);
  applyPage(c, page(61, 60, false), T0);
  assert.equal(e.after, 60);
  assert.ok(atNewest(c));
});

test('failed, lost and refused requests do not block the next one', () => {
  const c = loaded();
  const [a] = requestOlder(c, T0);
  historyFailed(c, a.id);
  const [b] = requestOlder(c, T0);
  assert.ok(b);
  assert.deepEqual(requestOlder(c, T0 + 1000), []);
  const [d] = requestOlder(c, T0 + REQUEST_TTL_MS + 1);
  assert.ok(d, 'an unanswered request expires');
  abandonRequests(c);
  assert.equal(loading(c, T0), null);
  assert.equal(applyPage(c, serve(d, 10000), T0), null, 'an answer nobody waits for is ignored');
});

test('notices after the window are left out until the window reaches them', () => {
  const c = loaded(1000);
  addNotice(c, { id: 1, kind: 'join', text: 'bob joined', ts: T0 });
  const notices = () => timeline(c).filter((i) => i.kind === 'notice').map((i) => i.notice.id);
  assert.deepEqual(notices(), [1]);
  for (let i = 0; i < 10; i++) applyPage(c, serve(requestOlder(c, T0)[0], 1000), T0);
  assert.equal(atNewest(c), false);
  assert.deepEqual(notices(), [], 'it follows message 1000, which is not held');
  while (!atNewest(c)) applyPage(c, serve(requestNewer(c, T0)[0], 1000), T0);
  assert.deepEqual(notices(), [1]);
  assert.equal(timeline(c).at(-1).kind, 'notice', 'after the newest message');
});

test('state: from welcome to a bounded window through bridge events', () => {
  const s = createState();
  const server = (event) => applyEvent(s, { kind: 'server', event }, T0);
  applyEvent(s, { kind: 'state', state: 'online' }, T0);
  const welcome = server({ type: 'welcome', nick: 'ana', server: 'test', rooms: [{ room: 'lobby', members: 1 }], dms: [] });
  assert.deepEqual(welcome.map((e) => e.type), ['active', 'join']);
  const [history] = server({ type: 'joined', room: 'lobby', topic: '', members: ['ana'], last_seq: 10000 });
  assert.equal(history.type, 'history');
  server(serve(history, 10000));
  const c = conv(s, 'lobby');
  assert.equal(c.msgs.length, 50);
  for (let i = 0; i < 15; i++) {
    server(serve(olderIn(s, 'lobby', T0)[0], 10000));
  }
  assert.equal(c.msgs.length, WINDOW);
  assert.equal(atNewest(c), false);
  server({ ...msg(10001), type: 'message' });
  assert.equal(c.bySeq.has(10001), false, 'a live message beyond the window is not shown');
  assert.equal(newerCount(c), 10001 - newestSeq(c));
  // Opening the conversation again shows its newest messages.
  const effects = setActive(s, 'lobby', T0);
  const latest = effects.find((e) => e.type === 'history');
  assert.ok(latest && latest.before === null && latest.after === null);
  server(serve(latest, 10001));
  assert.equal(newestSeq(c), 10001);
  // A reconnect: the requests in flight are forgotten, the replay extends the window.
  applyEvent(s, { kind: 'state', state: 'reconnecting', attempt: 1, retry_in_ms: 500 }, T0);
  applyEvent(s, { kind: 'state', state: 'online' }, T0);
  assert.deepEqual(server({ type: 'joined', room: 'lobby', topic: '', members: ['ana'], last_seq: 10003 }), []);
  for (const seq of [10002, 10003]) server({ ...msg(seq), type: 'message' });
  assert.equal(newestSeq(c), 10003);
  assert.ok(atNewest(c));
  assertContiguous(c);
});

test('state: the ack of the user\'s own message joins the window', () => {
  const s = createState();
  applyEvent(s, { kind: 'server', event: { type: 'welcome', nick: 'ana', rooms: [{ room: 'lobby' }], dms: [] } }, T0);
  const [h] = applyEvent(s, { kind: 'server', event: { type: 'joined', room: 'lobby', members: ['ana'], last_seq: 3 } }, T0);
  applyEvent(s, { kind: 'server', event: serve(h, 3) }, T0);
  applyEvent(s, { kind: 'queued', client_id: 'c1', room: 'lobby', text: 'hi' }, T0);
  const c = conv(s, 'lobby');
  assert.equal(c.pending.size, 1);
  applyEvent(s, { kind: 'server', event: { type: 'ack', client_id: 'c1', room: 'lobby', id: 9, seq: 4, ts: T0 } }, T0);
  assert.equal(c.pending.size, 0);
  assert.equal(newestSeq(c), 4);
  assert.equal(c.bySeq.get(4).text, 'hi');
});
