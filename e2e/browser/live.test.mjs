// Live data and a class in the web client parlor-server serves (PROTOCOL.md §2.4, §6.22–§6.24):
//
// - The seed tutorial's feed: a bot token made with `parlor-server bot add`, the Python example ticker_http.py
//   posting numbers over HTTP, and the page's chart drawing them as they come (the legend's latest value is the last
//   one the room was sent); then ticker_ws.py over WebSocket, and a page that opens the room late starts with a full
//   chart (the recent points follow `joined`).
// - A moderator (the test, over a raw WebSocket with the server's token) sends an announcement and pins it: both
//   pages show the pinned bar and "I've read it"; one confirms and the moderator sees the acknowledgement while the
//   other page's tally counts it; mute disables one page's composer (the other sees "muted"), unmute enables it
//   again; remove closes the room on that page with a notice, and its re-join is refused with the server's reason
//   until the moderator lets them back in. The browser cannot moderate, so it never shows a moderator's control.
// - The same from the desktop app's side (the UI with a stand-in for the Tauri shell, fake-app.mjs): the host's
//   Announce toggle, Pin, Mute / Unmute, Remove, the Removed list's "Let back in" and Unpin, each followed on a
//   student's page; the sender sees who has not read the announcement yet.

import { test } from 'node:test';
import assert from 'node:assert/strict';

import { openClient, signIn, say, waitForMessage, screenshot, openRaw, run, PYTHON, useClassOfTwo, openRoom } from './harness.mjs';
import { openApp } from './fake-app.mjs';

let server;
let browser;
let ana;
let bob;

useClassOfTwo((pages) => ({ server, browser, ana, bob } = pages));


/** What the chart's legend shows for `name`: `{ value, points }`, or null. */
const legend = (page, name) =>
  page.evaluate((wanted) => {
    const entry = [...document.querySelectorAll('#live-chart .series-legend [data-series]')].find((n) => n.dataset.series === wanted);
    return entry ? { value: entry.querySelector('.series-value').textContent, points: Number(entry.dataset.points) } : null;
  }, name);

/** Waits until the legend of `page` shows at least `n` points of series `name`. */
const waitForPoints = (page, name, n) =>
  page.waitForFunction(
    ([wanted, count]) => {
      const entry = [...document.querySelectorAll('#live-chart .series-legend [data-series]')].find((e) => e.dataset.series === wanted);
      return entry && Number(entry.dataset.points) >= count;
    },
    [name, n],
    { timeout: 30000 },
  );

/** The SVG line of series `name`: how many points its path goes through, and how big it is drawn. */
const line = (page, name) =>
  page.evaluate((wanted) => {
    const path = [...document.querySelectorAll('#live-chart svg.chart path.series-line')].find((p) => p.dataset.series === wanted);
    if (!path) return null;
    const box = path.getBBox();
    return { vertices: (path.getAttribute('d').match(/[ML]/g) || []).length, width: box.width, height: box.height };
  }, name);

test('a Python ticker draws a live chart; a page that opens the room late starts with it full', async () => {
  // Ana makes the room the bot posts into (the HTTP API needs it to exist, not the bot to be in it).
  await ana.page.click('#new-room-btn');
  await ana.page.fill('#new-room-name', 'lab');
  await ana.page.press('#new-room-name', 'Enter');
  await ana.page.waitForFunction(() => document.querySelector('#room-list li[data-room="lab"]:not(.not-joined)') !== null);
  assert.equal(await ana.page.isVisible('#live-chart'), false, 'no chart before any data');
  // A listener in the same room records what the server sends, to compare the legend with.
  const watcher = await openRaw(ana.page, 'watcher', [{ type: 'join', room: 'lab' }]);
  await watcher.waitFor((e) => e.type === 'joined' && e.room === 'lab', { what: 'joined' });

  const token = await server.botToken('ticker');
  const http = await run(PYTHON, [
    'examples/python/ticker_http.py', '--server', `http://127.0.0.1:${server.port}`, '--room', 'lab', '--token', token,
    '--count', '25', '--every', '0.1',
  ]);
  assert.equal(http.code, 0, `ticker_http.py failed: ${http.stdout}${http.stderr}`);
  assert.match(http.stdout, /TICKER OK 25/);

  await waitForPoints(ana.page, 'random', 20);
  await waitForPoints(ana.page, 'random', 25);
  const sent = (await watcher.events()).filter((e) => e.type === 'data' && e.room === 'lab');
  assert.equal(sent.length, 25, 'the room was sent every point');
  assert.ok(sent.every((e) => e.from === 'ticker'));
  const last = sent.at(-1).points;
  assert.deepEqual(await legend(ana.page, 'random'), { value: String(last.random), points: 25 });
  assert.deepEqual(await legend(ana.page, 'walk'), { value: String(last.walk), points: 25 });
  assert.equal(await ana.page.textContent('#live-chart-from'), 'from ticker');
  const drawn = await line(ana.page, 'random');
  assert.equal(drawn.vertices, 25, 'one vertex per point');
  assert.ok(drawn.width > 200 && drawn.height > 20, `the line spans the plot: ${JSON.stringify(drawn)}`);
  // The y axis is the window's min and max: its labels bracket every value shown.
  const labels = await ana.page.evaluate(() => [...document.querySelectorAll('#live-chart .chart-y-label')].map((n) => Number(n.textContent)));
  const values = sent.flatMap((e) => [e.points.random, e.points.walk]);
  assert.equal(labels.length, 3);
  assert.ok(Math.abs(labels[0] - Math.min(...values)) < 1e-3 && Math.abs(labels[2] - Math.max(...values)) < 1e-3, `labels ${labels}`);
  await screenshot(ana.page, 'live-chart.png');

  // Folding the chart keeps the legend; unfolding draws the lines again.
  await ana.page.click('#live-chart-hide');
  await ana.page.waitForSelector('#live-chart-plot', { state: 'hidden' });
  assert.equal(await ana.page.getAttribute('#live-chart-hide', 'aria-expanded'), 'false');
  assert.equal(await ana.page.isVisible('#live-chart .series-legend [data-series="random"]'), true);
  await ana.page.click('#live-chart-hide');
  await ana.page.waitForSelector('#live-chart-plot svg.chart', { state: 'visible' });

  // The same bot over WebSocket, faster.
  const ws = await run(PYTHON, [
    'examples/python/ticker_ws.py', '--url', `ws://127.0.0.1:${server.port}/ws`, '--room', 'lab', '--token', token,
    '--count', '10', '--every', '0.05',
  ]);
  assert.equal(ws.code, 0, `ticker_ws.py failed: ${ws.stdout}${ws.stderr}`);
  assert.match(ws.stdout, /TICKER OK 10/);
  await waitForPoints(ana.page, 'random', 35);
  const all = (await watcher.events()).filter((e) => e.type === 'data' && e.room === 'lab');
  assert.equal(all.length, 35);
  assert.deepEqual(await legend(ana.page, 'random'), { value: String(all.at(-1).points.random), points: 35 });

  // Bob opens the room only now: the server's recent points follow `joined`, so his chart starts as Ana's is.
  await openRoom(bob.page, 'lab');
  await waitForPoints(bob.page, 'random', 35);
  assert.deepEqual(await legend(bob.page, 'random'), await legend(ana.page, 'random'));
  assert.deepEqual(await legend(bob.page, 'walk'), await legend(ana.page, 'walk'));
  assert.equal((await line(bob.page, 'random')).vertices, 35);
  assert.equal(await bob.page.textContent('#live-chart-from'), 'from ticker');
  await watcher.close();
  for (const [who, { page, seen }] of [['ana', ana], ['bob', bob]]) {
    assert.deepEqual(seen.errors, [], `${who}: no script error`);
    assert.deepEqual(await page.evaluate(() => window.__csp), [], `${who}: no CSP violation`);
  }
});

const NOTICE = 'The exam moves to Friday, room 12.';

/** The announcement's row on `page`. */
const announcementRow = (page, seq) => page.locator(`#messages li.message.announcement[data-seq="${seq}"]`);

test('a moderator announces, pins, mutes and removes; the pages follow and show no moderator controls', async () => {
  // The host's moderator, over a raw WebSocket with the token the server wrote into its data directory.
  const desk = await openClient(browser, server);
  const teacher = await openRaw(desk.page, 'teacher', [
    { type: 'moderate', token: server.moderatorToken() },
    { type: 'create_room', room: 'class' },
    { type: 'join', room: 'class' },
  ]);
  await teacher.waitFor((e) => e.type === 'moderating', { what: 'moderating' });
  await teacher.waitFor((e) => e.type === 'joined' && e.room === 'class', { what: 'joined' });
  for (const { page } of [ana, bob]) {
    await page.waitForSelector('#room-list li[data-room="class"]');
    await openRoom(page, 'class');
    await page.waitForSelector('#online-list li[data-nick="teacher"]');
  }
  await ana.page.waitForSelector('#online-list li[data-nick="bob"]');

  // An announcement, pinned.
  await teacher.send({ type: 'send', room: 'class', text: NOTICE, client_id: 'announce-1', announce: true });
  const { seq } = await teacher.waitFor((e) => e.type === 'ack' && e.client_id === 'announce-1', { what: 'ack' });
  await teacher.send({ type: 'pin', room: 'class', seq });
  await teacher.waitFor((e) => e.type === 'pinned' && e.message && e.message.seq === seq, { what: 'pinned' });
  for (const { page } of [ana, bob]) {
    await page.waitForSelector('#pinned-bar:not([hidden])');
    assert.equal(await page.textContent('#pinned-text'), NOTICE);
    assert.equal(await page.textContent('#pinned-from'), 'teacher');
    assert.equal(await page.getAttribute('#pinned-bar', 'data-seq'), String(seq));
    await announcementRow(page, seq).locator('.ack-btn').waitFor({ state: 'visible' });
    assert.equal(await announcementRow(page, seq).locator('.ack-tally').textContent(), '0 of 2 have read it');
    // Nothing here can moderate: no control a click would only get refused.
    assert.equal(await page.isVisible('#unpin-btn'), false);
    assert.equal(await page.isVisible('#announce-toggle'), false);
    assert.equal(await page.locator('#online-list .mute-btn, #online-list .remove-btn').count(), 0);
    await announcementRow(page, seq).hover();
    assert.equal(await announcementRow(page, seq).locator('.pin-btn').isVisible(), false);
    assert.equal(await announcementRow(page, seq).locator('.ack-missing').isVisible(), false, 'who has not read it is for the sender');
  }
  await screenshot(bob.page, 'announcement.png');

  // Ana confirms: the moderator's copy lists her, Bob's tally counts her, and her button becomes "✓ Read".
  await announcementRow(ana.page, seq).locator('.ack-btn').click();
  const updated = await teacher.waitFor(
    (e) => e.type === 'message_updated' && e.seq === seq && e.announcement && e.announcement.acks.includes('ana'),
    { what: 'message_updated with ana in acks' },
  );
  assert.deepEqual(updated.announcement.acks, ['ana']);
  await bob.page.waitForFunction(
    (s) => document.querySelector(`#messages li.message[data-seq="${s}"] .ack-tally`).textContent === '1 of 2 have read it',
    seq,
  );
  await announcementRow(ana.page, seq).locator('.ack-done').waitFor({ state: 'visible' });
  assert.equal(await announcementRow(ana.page, seq).locator('.ack-btn').isVisible(), false);
  assert.equal(await announcementRow(bob.page, seq).locator('.ack-btn').isVisible(), true, 'Bob has not confirmed yet');

  // The pinned bar leads to the message.
  await ana.page.click('#pinned-open');
  await announcementRow(ana.page, seq).and(ana.page.locator('.flash')).waitFor();

  // Mute Bob: his composer stops, with the reason; Ana sees him marked; he may still confirm the announcement.
  await teacher.send({ type: 'mute', room: 'class', nick: 'bob' });
  await bob.page.waitForSelector('#composer-input:disabled');
  await bob.page.waitForSelector('#muted-note:not([hidden])');
  assert.equal(await bob.page.textContent('#muted-note'), 'A moderator muted you in #class: you can still read, vote and react');
  assert.equal(await bob.page.isDisabled('#send-btn'), true);
  await ana.page.waitForSelector('#online-list li[data-nick="bob"] .muted-badge');
  assert.equal(await ana.page.textContent('#online-list li[data-nick="bob"] .muted-badge'), 'muted');
  await screenshot(bob.page, 'muted.png');
  await announcementRow(bob.page, seq).locator('.ack-btn').click();
  await ana.page.waitForFunction(
    (s) => document.querySelector(`#messages li.message[data-seq="${s}"] .ack-tally`).textContent === 'All 2 have read it',
    seq,
  );

  await teacher.send({ type: 'unmute', room: 'class', nick: 'bob' });
  await bob.page.waitForSelector('#composer-input:enabled');
  await bob.page.waitForSelector('#muted-note', { state: 'hidden' });
  await ana.page.waitForSelector('#online-list li[data-nick="bob"] .muted-badge', { state: 'detached' });
  await say(bob.page, 'back in the conversation');
  await waitForMessage(ana.page, 'back in the conversation');

  // Remove Bob: his room closes with a notice, and Ana is told who did it.
  await teacher.send({ type: 'remove', room: 'class', nick: 'bob' });
  await bob.page.waitForFunction(() => document.querySelector('#room-title').textContent === 'lobby');
  await bob.page.waitForSelector('#room-list li.not-joined[data-room="class"]');
  const removedNotice = bob.page.locator('#messages li.notice', { hasText: 'A moderator removed you from #class' });
  await removedNotice.waitFor();
  await screenshot(bob.page, 'removed.png');
  await ana.page.locator('#messages li.notice', { hasText: 'teacher removed bob from the room' }).waitFor();
  await ana.page.waitForSelector('#online-list li[data-nick="bob"]', { state: 'detached' });

  // His attempt to come back is refused, and the server's reason is what he reads.
  await bob.page.click('#room-list li[data-room="class"] button');
  const reason = bob.page.locator('#messages li.notice.notice-error', { hasText: /removed/i });
  await reason.waitFor();
  const teacherSaw = await teacher.events();
  assert.ok(!teacherSaw.some((e) => e.type === 'error'), `the moderator's requests were all accepted: ${JSON.stringify(teacherSaw.filter((e) => e.type === 'error'))}`);

  // Let back in: the same click joins.
  await teacher.send({ type: 'readmit', room: 'class', nick: 'bob' });
  await teacher.waitFor((e) => e.type === 'room_state' && e.room === 'class' && !(e.removed || []).length && e.by === 'teacher', { what: 'readmit' });
  await openRoom(bob.page, 'class');
  await bob.page.waitForSelector('#pinned-bar:not([hidden])');

  // Unpinned: the bar goes away on both pages.
  await teacher.send({ type: 'unpin', room: 'class' });
  for (const { page } of [ana, bob]) await page.waitForSelector('#pinned-bar', { state: 'hidden' });
  for (const [who, { page, seen }] of [['ana', ana], ['bob', bob]]) {
    assert.deepEqual(seen.errors, [], `${who}: no script error`);
    assert.deepEqual(await page.evaluate(() => window.__csp), [], `${who}: no CSP violation`);
  }
  await teacher.close();
  await desk.context.close();
});

test('the host\'s app: Announce, Pin, Mute, Remove, Let back in and Unpin, as a student sees them', async () => {
  const host = await openApp(browser, server);
  const { page } = host;
  await signIn(page, 'host');
  await page.waitForSelector('#room-list li[data-room="class"]');
  await openRoom(page, 'class');
  await openRoom(bob.page, 'class');
  await page.waitForSelector('#online-list li[data-nick="bob"] .mute-btn');
  assert.equal(await page.locator('#online-list li[data-nick="host"] .mute-btn').count(), 0, 'not on oneself');

  // Announce: the toggle makes the next message an announcement, then lets go.
  const text = 'Hand in the lab report by Monday.';
  await page.click('#announce-toggle');
  assert.equal(await page.getAttribute('#announce-toggle', 'aria-pressed'), 'true');
  await say(page, text);
  await waitForMessage(page, text);
  assert.equal(await page.getAttribute('#announce-toggle', 'aria-pressed'), 'false', 'one message only');
  const row = (p) => p.locator('#messages li.message.announcement:not(.pending)').filter({ hasText: text });
  await row(bob.page).locator('.ack-btn').waitFor();
  const seq = Number(await row(page).getAttribute('data-seq'));
  await row(page).locator('.ack-missing').waitFor();
  assert.match(await row(page).locator('.ack-missing').textContent(), /^Not yet: .*\bbob\b/);
  assert.equal(await row(page).locator('.ack-btn').isVisible(), false, 'the sender does not confirm their own');
  await row(bob.page).locator('.ack-btn').click();
  await page.waitForFunction(
    (s) => !/\bbob\b/.test(document.querySelector(`#messages li.message[data-seq="${s}"] .ack-missing`)?.textContent || ''),
    seq,
  );

  // Pin it from the message's toolbar; the bar shows on the student's page, Unpin only on the host's.
  await row(page).hover();
  await row(page).locator('.pin-btn').click();
  await bob.page.waitForFunction((t) => document.querySelector('#pinned-text').textContent === t, text);
  await page.waitForSelector('#unpin-btn:not([hidden])');
  assert.equal(await bob.page.isVisible('#unpin-btn'), false);
  await screenshot(page, 'moderator.png');

  // Mute and unmute from the online list.
  await page.click('#online-list li[data-nick="bob"] .mute-btn');
  await bob.page.waitForSelector('#composer-input:disabled');
  await page.waitForSelector('#online-list li[data-nick="bob"] .muted-badge');
  await page.click('#online-list li[data-nick="bob"] .unmute-btn');
  await bob.page.waitForSelector('#composer-input:enabled');

  // Remove, then let back in from the Removed list.
  await page.click('#online-list li[data-nick="bob"] .remove-btn');
  await bob.page.waitForFunction(() => document.querySelector('#room-title').textContent === 'lobby');
  await page.waitForSelector('#removed-list li[data-nick="bob"] .readmit-btn');
  assert.equal(await bob.page.isVisible('#removed-section'), false, 'only moderators see who was removed');
  await page.click('#removed-list li[data-nick="bob"] .readmit-btn');
  await page.waitForSelector('#removed-section', { state: 'hidden' });
  await openRoom(bob.page, 'class');

  // Unpin from the bar.
  await bob.page.waitForSelector('#pinned-bar:not([hidden])');
  await page.click('#unpin-btn');
  await bob.page.waitForSelector('#pinned-bar', { state: 'hidden' });
  assert.deepEqual(host.seen.errors, [], 'no script error');
  assert.deepEqual(await page.evaluate(() => window.__csp), [], 'no CSP violation');
  const calls = await page.evaluate(() => window.__fakeApp.calls);
  for (const command of ['send_announcement', 'pin_message', 'mute_member', 'remove_member']) assert.ok(calls.includes(command), command);
  await host.context.close();
});
