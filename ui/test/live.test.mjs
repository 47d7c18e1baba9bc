// Unit tests of the live chart's pure parts: the per-room series store (bounded windows, colours, publishers, bad
// points), the geometry (extent, scales, paths, labels, value formatting), and `data` events through applyEvent
// (a `joined` starts the room's data over, as the server replays its recent points after it). No DOM.

import test from 'node:test';
import assert from 'node:assert/strict';

import { MAX_POINTS, MAX_SERIES, newLive, addData, validPoints, pushBounded, latest, publishersText } from '../js/series.js';
import { extent, yDomain, linear, plotBox, scales, linePath, formatValue, yLabels, spanText } from '../js/chart.js';
import { createState, startSession, setActive } from '../js/state.js';
import { applyEvent } from '../js/events.js';

const data = (ts, points, from = 'ticker', room = 'lab') => ({ type: 'data', room, from, ts, points });

test('a series keeps the newest 120 points, oldest first', () => {
  const live = newLive();
  for (let i = 0; i < 300; i++) addData(live, data(1000 + i * 200, { random: i / 300 }));
  const s = live.series.get('random');
  assert.equal(s.points.length, MAX_POINTS);
  assert.deepEqual(s.points[0], { ts: 1000 + 180 * 200, v: 180 / 300 });
  assert.deepEqual(latest(s), { ts: 1000 + 299 * 200, v: 299 / 300 });
  assert.equal(live.rev, 300, 'every event is a change to redraw');
  assert.deepEqual(pushBounded([1, 2, 3], 4, 3), [2, 3, 4]);
});

test('series keep their colour in order of appearance; the quietest goes beyond the limit', () => {
  const live = newLive();
  addData(live, data(1, { random: 0.5, walk: -1 }));
  addData(live, data(2, { temperature: 21.5 }, 'sensor'));
  assert.deepEqual([...live.series.values()].map((s) => [s.name, s.colour]), [['random', 0], ['walk', 1], ['temperature', 2]]);
  for (let i = 0; i < MAX_SERIES; i++) addData(live, data(10 + i, { [`s${i}`]: i, random: i }));
  assert.equal(live.series.size, MAX_SERIES);
  assert.equal(live.series.has('walk'), false, 'walk was quiet longest');
  assert.equal(live.series.has('random'), true, 'random kept publishing');
  assert.equal(live.series.get('random').colour, 0);
});

test('points that cannot be drawn are left out; nothing valid changes nothing', () => {
  assert.deepEqual(validPoints({ ok: 1, nan: NaN, inf: Infinity, text: '3', '': 2, [`${'x'.repeat(33)}`]: 1, 'two\nlines': 1 }), [['ok', 1]]);
  assert.deepEqual(validPoints(null), []);
  assert.deepEqual(validPoints([1, 2]), []);
  const live = newLive();
  assert.equal(addData(live, data(1, { bad: 'x' })), 0);
  assert.equal(live.rev, 0);
  assert.equal(live.series.size, 0);
  // A hostile name is just a name: kept as given, to be shown as text.
  addData(live, data(2, { '<img src=x onerror=alert(1)>': 1 }));
  assert.equal([...live.series.keys()][0], '<img src=x onerror=alert(1)>');
});

test('who publishes: newest last, each once, at most three', () => {
  const live = newLive();
  assert.equal(publishersText(live), '');
  addData(live, data(1, { a: 1 }, 'ticker'));
  addData(live, data(2, { a: 1 }, 'Ticker'));
  assert.equal(publishersText(live), 'from ticker');
  addData(live, data(3, { b: 1 }, 'ana'));
  assert.equal(publishersText(live), 'from ticker and ana');
  addData(live, data(4, { c: 1 }, 'bo'));
  addData(live, data(5, { c: 1 }, 'cy'));
  assert.equal(publishersText(live), 'from ana, bo and cy');
});

test('the extent spans every point kept; a flat line gets a band around it', () => {
  assert.equal(extent([]), null);
  const ext = extent([{ points: [{ ts: 10, v: 2 }, { ts: 20, v: -1 }] }, { points: [{ ts: 15, v: 5 }] }]);
  assert.deepEqual(ext, { min: -1, max: 5, t0: 10, t1: 20, count: 3 });
  assert.deepEqual(yDomain(ext), { min: -1, max: 5 });
  assert.deepEqual(yDomain({ min: 20, max: 20 }), { min: 18, max: 22 });
  assert.deepEqual(yDomain({ min: 0, max: 0 }), { min: -1, max: 1 });
  assert.deepEqual(yDomain(null), { min: 0, max: 1 });
});

test('scales put the newest point at the right and the largest value at the top', () => {
  const box = plotBox(600, 150);
  assert.deepEqual(box, { left: 48, right: 588, top: 10, bottom: 130 });
  const list = [{ points: [{ ts: 1000, v: 0 }, { ts: 2000, v: 1 }, { ts: 3000, v: 0.5 }] }];
  const { x, y, min, max } = scales(list, box);
  assert.equal(min, 0);
  assert.equal(max, 1);
  assert.equal(x(1000), 48);
  assert.equal(x(3000), 588);
  assert.equal(y(1), 10);
  assert.equal(y(0), 130);
  assert.equal(linePath(list[0].points, x, y), 'M48 130L318 10L588 70');
  assert.equal(linePath([], x, y), '');
  // One point in time: it sits at the right edge rather than dividing by zero.
  assert.equal(linear(5, 5, 0, 100)(5), 100);
  // A tiny plot still has a box.
  const tiny = plotBox(20, 10);
  assert.ok(tiny.right > tiny.left && tiny.bottom > tiny.top);
});

test('values and axis labels read as people write numbers', () => {
  assert.equal(formatValue(0.4217), '0.4217');
  assert.equal(formatValue(21.5), '21.5');
  assert.equal(formatValue(-1.73), '-1.73');
  assert.equal(formatValue(1 / 3), '0.3333');
  assert.equal(formatValue(123456.789), '123456.8');
  assert.equal(formatValue(12345678901), '1.23e+10');
  assert.equal(formatValue(0.000012345), '1.23e-5');
  assert.equal(formatValue(NaN), '');
  assert.deepEqual(yLabels(0, 1).map((l) => l.text), ['0', '0.5', '1']);
  assert.deepEqual(yLabels(-1.73, 2.2).map((l) => l.text), ['-1.73', '0.235', '2.2']);
  assert.deepEqual(yLabels(3, 3).map((l) => l.text), ['3']);
  assert.equal(spanText({ t0: 0, t1: 23_800 }), 'last 24 s');
  assert.equal(spanText({ t0: 0, t1: 600_000 }), 'last 10 min');
  assert.equal(spanText({ t0: 5, t1: 5 }), '');
});

function inLab() {
  const s = createState();
  startSession(s, { url: 'ws://127.0.0.1:7878/ws', nick: 'ana' }, null);
  applyEvent(s, { kind: 'server', event: { type: 'welcome', nick: 'ana', rooms: [{ room: 'lobby' }, { room: 'lab' }], dms: [] } });
  applyEvent(s, { kind: 'state', state: 'online' });
  setActive(s, 'lab');
  applyEvent(s, { kind: 'server', event: { type: 'joined', room: 'lab', topic: '', members: ['ana', 'ticker'], last_seq: 0, last_rev: 0 } });
  return s;
}

test('data events fill the room\'s store; a new joined starts it over with the replayed points', () => {
  const s = inLab();
  for (let i = 0; i < 5; i++) applyEvent(s, { kind: 'server', event: data(1000 + i, { random: i }) });
  assert.equal(s.live.get('lab').series.get('random').points.length, 5);
  // A rejoin (after a reconnect): the server replays its recent points after `joined`; none is counted twice.
  applyEvent(s, { kind: 'server', event: { type: 'joined', room: 'lab', topic: '', members: ['ana'], last_seq: 0, last_rev: 0 } });
  assert.equal(s.live.has('lab'), false);
  for (let i = 0; i < 5; i++) applyEvent(s, { kind: 'server', event: data(1000 + i, { random: i }) });
  assert.equal(s.live.get('lab').series.get('random').points.length, 5);
  applyEvent(s, { kind: 'server', event: { type: 'left', room: 'lab' } });
  assert.equal(s.live.has('lab'), false, 'a room left keeps nothing');
  applyEvent(s, { kind: 'server', event: data(1, { random: 1 }, 'ticker', '@bo') });
  assert.equal(s.live.size, 0, 'no chart in a direct conversation');
});
