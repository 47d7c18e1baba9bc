// The classroom's tools in the web client parlor-server serves, and in the desktop app's UI (the stand-in shell of
// fake-app.mjs): searching a conversation (a result far back in the history is loaded and shown), a room with a
// password (asked once, a wrong one said, remembered after a reload), Markdown in messages (links open in a new tab
// in a browser and in the system browser from the app, hostile ones stay text), saved snippets, and what only the
// app does: the join code in the host panel, exporting a transcript, a moderator setting and removing a password.

import { test } from 'node:test';
import assert from 'node:assert/strict';

import { openClient, signIn, say, waitForMessage, screenshot, rawFrames, useClassOfTwo, openRoom } from './harness.mjs';
import { openApp } from './fake-app.mjs';

let server;
let browser;
let ana;
let bob;

useClassOfTwo((pages) => ({ server, browser, ana, bob } = pages));


/** Searches the conversation on screen for `query` until the panel lists `count` results or more (the server indexes a moment after storing). */
async function searchFor(page, query, { count = 1 } = {}) {
  await page.fill('#search-input', query);
  for (let tries = 0; ; tries++) {
    await page.press('#search-input', 'Enter');
    try {
      await page.waitForFunction((n) => document.querySelectorAll('#search-results li.search-hit').length >= n, count, { timeout: 1500 });
      return;
    } catch (err) {
      if (tries > 10) throw err;
    }
  }
}

/** Whether the message row with `seq` is inside the message list's visible box. */
const inView = (page, seq) =>
  page.evaluate((s) => {
    const row = document.querySelector(`#messages li.message[data-seq="${s}"]`);
    if (!row) return false;
    const box = document.querySelector('#scroller').getBoundingClientRect();
    const r = row.getBoundingClientRect();
    return r.top >= box.top - 1 && r.bottom <= box.bottom + 1;
  }, seq);

test('search finds a message, marks the words, and a click shows it — loading the history around it', async () => {
  const HOMEWORK = 'Homework: fractions, page 12. Ask me if stuck.';
  await say(ana.page, HOMEWORK);
  await waitForMessage(bob.page, HOMEWORK);
  // 72 messages after it, from four raw sockets (each within its rate-limit burst), so it is older than a page.
  for (const who of ['f1', 'f2', 'f3', 'f4']) {
    const frames = [{ type: 'join', room: 'lobby' }];
    for (let i = 0; i < 18; i++) frames.push({ type: 'send', room: 'lobby', text: `filler ${who} ${i}`, client_id: `${who}-${i}` });
    const answers = await rawFrames(ana.page, who, frames, 300);
    assert.equal(answers.filter((e) => e.type === 'ack').length, 18, `${who}: every filler stored`);
  }
  await waitForMessage(bob.page, 'filler f4 17');

  // Bob holds it (he was there): the result scrolls it into view.
  await searchFor(bob.page, 'fractions hom');
  const hit = bob.page.locator('#search-results li.search-hit').first();
  const seq = Number(await hit.getAttribute('data-seq'));
  assert.deepEqual(await hit.locator('mark').allTextContents(), ['Homework', 'fractions']);
  assert.equal(await hit.locator('.search-text').textContent(), HOMEWORK);
  assert.equal(await hit.locator('.search-from').textContent(), 'ana');
  assert.equal(await inView(bob.page, seq), false, 'far up the list before');
  await hit.click();
  await bob.page.waitForFunction((s) => document.querySelector(`#messages li.message[data-seq="${s}"].flash`), seq);
  await bob.page.waitForFunction((s) => {
    const row = document.querySelector(`#messages li.message[data-seq="${s}"]`);
    const box = document.querySelector('#scroller').getBoundingClientRect();
    const r = row.getBoundingClientRect();
    return r.top >= box.top && r.bottom <= box.bottom;
  }, seq);

  // Cy arrives later: the newest page does not reach it, so the page around it is loaded first.
  const cy = await openClient(browser, server);
  await signIn(cy.page, 'cy');
  await waitForMessage(cy.page, 'filler f4 17');
  assert.equal(await cy.page.locator(`#messages li.message[data-seq="${seq}"]`).count(), 0, 'not loaded yet');
  await searchFor(cy.page, 'FRACTIONS Hom');
  await cy.page.click(`#search-results li.search-hit[data-seq="${seq}"]`);
  await cy.page.waitForSelector(`#messages li.message[data-seq="${seq}"]`);
  await cy.page.waitForFunction((s) => {
    const row = document.querySelector(`#messages li.message[data-seq="${s}"]`);
    const box = document.querySelector('#scroller').getBoundingClientRect();
    const r = row.getBoundingClientRect();
    return r.top >= box.top && r.bottom <= box.bottom;
  }, seq);
  await cy.page.waitForSelector('#jump-btn:not([hidden])'); // "Jump to latest": the window is back in the history.
  await screenshot(cy.page, 'search.png');

  // More results than a page: "Load more" pages older ones in.
  await searchFor(cy.page, 'filler', { count: 20 });
  assert.equal(await cy.page.locator('#search-results li.search-hit').count(), 20);
  await cy.page.click('#search-more-btn');
  await cy.page.waitForFunction(() => document.querySelectorAll('#search-results li.search-hit').length === 40);
  const seqs = await cy.page.locator('#search-results li.search-hit').evaluateAll((nodes) => nodes.map((n) => Number(n.dataset.seq)));
  assert.deepEqual([...seqs].sort((a, b) => b - a), seqs, 'newest first');
  assert.equal(new Set(seqs).size, 40, 'no result twice');

  // Nothing found, and a query without a word: said in the panel.
  await cy.page.fill('#search-input', 'zebra');
  await cy.page.press('#search-input', 'Enter');
  await cy.page.waitForFunction(() => /No messages match “zebra”/.test(document.querySelector('#search-status').textContent));
  await cy.page.fill('#search-input', '*** ?');
  await cy.page.press('#search-input', 'Enter');
  await cy.page.waitForFunction(() => /Type a word to search for/.test(document.querySelector('#search-status').textContent));
  assert.equal(await cy.page.locator('#messages li.notice-error').count(), 0, 'no notice in the conversation');

  // Escape closes it; × too.
  await cy.page.press('#search-input', 'Escape');
  await cy.page.waitForSelector('#search-panel', { state: 'hidden' });
  await searchFor(cy.page, 'fractions');
  await cy.page.click('#search-close-btn');
  await cy.page.waitForSelector('#search-panel', { state: 'hidden' });
  assert.equal(await cy.page.inputValue('#search-input'), '');

  // Typing and pausing searches too.
  await cy.page.type('#search-input', 'homew', { delay: 30 });
  await cy.page.waitForSelector(`#search-results li.search-hit[data-seq="${seq}"]`);
  await cy.page.press('#search-input', 'Escape');
  assert.deepEqual(cy.seen.errors, []);
  await cy.context.close();
});

test('a room with a password: asked once, a wrong one said, and remembered after a reload', async () => {
  await ana.page.click('#new-room-btn');
  await ana.page.fill('#new-room-name', 'secret');
  await ana.page.fill('#new-room-password', 'blue whale');
  await ana.page.press('#new-room-name', 'Enter');
  // The creator enters without being asked.
  await ana.page.waitForFunction(() => document.querySelector('#room-title').textContent === 'secret' &&
    document.querySelector('#room-list li[data-room="secret"]:not(.not-joined)'));
  assert.equal(await ana.page.inputValue('#new-room-password'), '', 'the field is cleared');
  assert.equal(await ana.page.isVisible('#room-password-dialog'), false);
  await say(ana.page, 'the answers are in here');

  const lock = bob.page.locator('#room-list li[data-room="secret"] .room-lock');
  await lock.waitFor();
  assert.equal(await bob.page.locator('#room-list li[data-room="lobby"] .room-lock').isVisible(), false);
  assert.match(await bob.page.getAttribute('#room-list li[data-room="secret"] button', 'aria-label'), /needs a password/);

  await bob.page.click('#room-list li[data-room="secret"] button');
  await bob.page.waitForSelector('#room-password-dialog[open]');
  assert.equal(await bob.page.textContent('#room-password-room'), '#secret');
  assert.equal(await bob.page.locator('#messages li.notice-error').count(), 0, 'asked, not refused');
  await bob.page.fill('#room-password-input', 'red herring');
  await bob.page.click('#room-password-submit-btn');
  await bob.page.waitForSelector('#room-password-error:not([hidden])');
  assert.match(await bob.page.textContent('#room-password-error'), /not the room’s password/);
  assert.equal(await bob.page.inputValue('#room-password-input'), '', 'the field is cleared');
  await screenshot(bob.page, 'room-password.png');

  await bob.page.fill('#room-password-input', 'blue whale');
  await bob.page.click('#room-password-submit-btn');
  await bob.page.waitForSelector('#room-password-dialog', { state: 'hidden' });
  await waitForMessage(bob.page, 'the answers are in here');
  await bob.page.waitForFunction(() => document.querySelector('#room-list li[data-room="secret"]:not(.not-joined)'));

  // A reload: the same nickname enters again without being asked (the server remembers it).
  await bob.page.reload();
  await signIn(bob.page, 'bob');
  await bob.page.waitForFunction(() => document.querySelector('#room-title').textContent === 'secret' &&
    document.querySelector('#room-list li[data-room="secret"]:not(.not-joined)'));
  await waitForMessage(bob.page, 'the answers are in here');
  await say(ana.page, 'welcome back');
  await waitForMessage(bob.page, 'welcome back');
  assert.equal(await bob.page.isVisible('#room-password-dialog'), false, 'not asked again');

  // Someone new who cancels stays out, with a line saying how to try again.
  const cy = await openClient(browser, server);
  await signIn(cy.page, 'cy');
  await cy.page.click('#room-list li[data-room="secret"] button');
  await cy.page.waitForSelector('#room-password-dialog[open]');
  await cy.page.click('#room-password-cancel-btn');
  await cy.page.waitForSelector('#room-password-dialog', { state: 'hidden' });
  await cy.page.waitForFunction(() => [...document.querySelectorAll('#messages li.notice')].some((n) => /needs its password/.test(n.textContent)));
  assert.equal(await cy.page.locator('#room-list li[data-room="secret"].not-joined').count(), 1);
  assert.equal(await cy.page.isVisible('#set-room-password-btn'), false, 'only moderators set passwords');
  await cy.context.close();
  for (const [who, { seen }] of [['ana', ana], ['bob', bob]]) assert.deepEqual(seen.errors, [], `${who}: no script error`);
});

test('Markdown renders bold, italic, code and links; hostile links stay text; links open in a new tab', async () => {
  await openRoom(ana.page, 'lobby');
  await openRoom(bob.page, 'lobby');
  const TEXT = '**bold** *italic* _also_ `co*de*` [the notes](https://example.org/notes) see https://example.com/a_b. [click](javascript:alert(1)) @bob';
  await say(ana.page, TEXT);
  const row = bob.page.locator('#messages li.message:not(.pending)').filter({ hasText: 'the notes' }).last();
  await row.waitFor();
  const shown = await row.evaluate((li) => {
    const text = li.querySelector('.text');
    return {
      strong: [...text.querySelectorAll('strong')].map((n) => n.textContent),
      em: [...text.querySelectorAll('em')].map((n) => n.textContent),
      code: [...text.querySelectorAll('code')].map((n) => n.textContent),
      links: [...text.querySelectorAll('a')].map((a) => [a.getAttribute('href'), a.textContent, a.target, a.rel]),
      mention: [...text.querySelectorAll('.mention-name')].map((n) => n.textContent),
      mentioned: li.classList.contains('mention'),
      text: text.textContent,
    };
  });
  assert.deepEqual(shown, {
    strong: ['bold'],
    em: ['italic', 'also'],
    code: ['co*de*'],
    links: [
      ['https://example.org/notes', 'the notes', '_blank', 'noopener noreferrer'],
      ['https://example.com/a_b', 'https://example.com/a_b', '_blank', 'noopener noreferrer'],
    ],
    mention: ['@bob'],
    mentioned: true,
    text: 'bold italic also co*de* the notes see https://example.com/a_b. [click](javascript:alert(1)) @bob',
  });

  // A mention inside bold is still marked.
  await say(ana.page, '**@bob read this** please');
  const bold = bob.page.locator('#messages li.message.mention:not(.pending)').filter({ hasText: 'read this' });
  await bold.waitFor();
  assert.equal(await bold.locator('.text strong .mention-name').textContent(), '@bob');

  // In a browser a link opens a new tab; the chat stays where it is. (The test network has no example.org.)
  await bob.context.route('https://example.org/**', (route) => route.fulfill({ contentType: 'text/plain', body: 'the notes' }));
  const before = bob.page.url();
  const [tab] = await Promise.all([bob.context.waitForEvent('page'), row.locator('a[href="https://example.org/notes"]').click()]);
  await tab.waitForURL('https://example.org/notes');
  assert.equal(await tab.evaluate(() => window.opener), null, 'noopener: the tab cannot reach the chat');
  await tab.close();
  assert.equal(bob.page.url(), before);
  assert.deepEqual(bob.seen.dialogs, []);
  assert.equal(await bob.page.evaluate(() => window.__xss), 0);
  await screenshot(bob.page, 'markdown.png');
});

test('snippets: saved from the message box, inserted with a click, deleted, kept on this device', async () => {
  const { page } = ana;
  const TEXT = 'Open your books at page 12, exercise 3.';
  await page.fill('#composer-input', TEXT);
  await page.click('#snippets-btn');
  await page.waitForSelector('#snippets-menu:not([hidden])');
  assert.equal(await page.isVisible('#snippets-empty'), true);
  await page.click('#snippet-save-btn');
  await page.waitForSelector('#snippets-menu li.snippet');
  await page.fill('#composer-input', 'Homework is on the board.');
  await page.click('#snippet-save-btn');
  await page.waitForFunction(() => document.querySelectorAll('#snippets-menu li.snippet').length === 2);
  assert.deepEqual(await page.locator('#snippets-menu li.snippet .snippet-insert').allTextContents(), ['Homework is on the board.', TEXT]);
  await page.keyboard.press('Escape');
  await page.waitForSelector('#snippets-menu', { state: 'hidden' });

  // Inserted where the caret is, then sent like anything typed.
  await page.fill('#composer-input', 'Today: ');
  await page.click('#snippets-btn');
  await page.locator('#snippets-menu li.snippet').filter({ hasText: TEXT }).locator('.snippet-insert').click();
  await page.waitForSelector('#snippets-menu', { state: 'hidden' });
  assert.equal(await page.inputValue('#composer-input'), `Today: ${TEXT}`);
  await page.press('#composer-input', 'Enter');
  await waitForMessage(bob.page, `Today: ${TEXT}`);

  // Kept after a reload (this device's storage), and deleted with its ×.
  await page.reload();
  await signIn(page, 'ana');
  await page.click('#snippets-btn');
  await page.waitForFunction(() => document.querySelectorAll('#snippets-menu li.snippet').length === 2);
  await page.locator('#snippets-menu li.snippet').filter({ hasText: 'Homework' }).locator('.snippet-delete').click();
  await page.waitForFunction(() => document.querySelectorAll('#snippets-menu li.snippet').length === 1);
  assert.equal(await page.isVisible('#snippets-menu'), true, 'deleting keeps the menu open');
  assert.deepEqual(await page.evaluate(() => JSON.parse(localStorage.getItem('parlor.snippets'))), [TEXT]);
  await page.click('#room-title'); // A click elsewhere closes it.
  await page.waitForSelector('#snippets-menu', { state: 'hidden' });
  assert.deepEqual(ana.seen.errors, []);
});

test('the desktop app: join code, export, links to the system browser, a moderator’s room password', async () => {
  const HOST = {
    port: server.port, lan: true, urls: [`wss://192.168.1.20:${server.port}/ws#sha256=${'ab'.repeat(32)}`],
    local_url: `ws://127.0.0.1:${server.port}/ws`, fingerprint: 'ABCD EF01', join_code: 'K7P-3QX',
  };
  const app = await openApp(browser, server, { host: HOST });
  const { page } = app;
  await page.waitForSelector('#host-panel:not([hidden])');
  assert.equal(await page.textContent('#host-join-code'), 'K7P-3QX');
  assert.equal(await page.isVisible('#host-code-copy-btn'), true);
  assert.equal(await page.textContent('label[for="server-url"]'), 'Address, join link or join code');
  assert.equal(await ana.page.isVisible('#host-join-code'), false, 'no join code in a browser');
  await signIn(page, 'teacher');
  await page.waitForSelector('#mod-controls:not([hidden])');

  // Export: a notice with where the file is, or the app's reason.
  assert.equal(await ana.page.isVisible('#export-btn'), false, 'the browser cannot export');
  await page.click('#export-btn');
  await page.click('#export-menu button.export-format[data-format="md"]');
  await page.waitForFunction(() => [...document.querySelectorAll('#messages li.notice-export')].some((n) =>
    n.textContent.includes('/home/teacher/Downloads/parlor-lobby-20261122-0900.md')));
  await page.evaluate(() => {
    window.__fakeApp.exportFails = true;
  });
  await page.click('#export-btn');
  await page.click('#export-menu button.export-format[data-format="json"]');
  await page.waitForFunction(() => [...document.querySelectorAll('#messages li.notice-error')].some((n) =>
    n.textContent.includes('only rooms this computer hosted can be exported')));

  // Links go to the system browser through openLink; the webview never navigates.
  await say(ana.page, 'read [the guide](https://example.org/guide) first');
  const link = page.locator('#messages li.message a.md-link[href="https://example.org/guide"]');
  await link.waitFor();
  const before = page.url();
  let opened = false;
  app.context.on('page', () => {
    opened = true;
  });
  await link.click();
  await page.waitForFunction(() => window.__fakeApp.opened.length === 1);
  assert.deepEqual(await page.evaluate(() => window.__fakeApp.opened), ['https://example.org/guide']);
  assert.equal(page.url(), before);
  assert.equal(opened, false, 'no new window');

  // A moderator gives a room a password; a student is asked for it; then it is removed.
  await page.click('#new-room-btn');
  await page.fill('#new-room-name', 'exam');
  await page.press('#new-room-name', 'Enter');
  await page.waitForFunction(() => document.querySelector('#room-list li[data-room="exam"]:not(.not-joined)'));
  await page.click('#set-room-password-btn');
  await page.waitForSelector('#set-room-password-dialog[open]');
  assert.equal(await page.isVisible('#set-room-password-remove-btn'), false, 'nothing to remove yet');
  await page.fill('#set-room-password-input', 'quiet please');
  await page.click('#set-room-password-submit-btn');
  await page.waitForSelector('#set-room-password-dialog', { state: 'hidden' });
  await page.waitForSelector('#room-list li[data-room="exam"] .room-lock:not([hidden])');

  await bob.page.click('#room-list li[data-room="exam"] button');
  await bob.page.waitForSelector('#room-password-dialog[open]');
  await bob.page.fill('#room-password-input', 'quiet please');
  await bob.page.click('#room-password-submit-btn');
  await bob.page.waitForSelector('#room-password-dialog', { state: 'hidden' });
  await bob.page.waitForFunction(() => document.querySelector('#room-list li[data-room="exam"]:not(.not-joined)'));

  await page.click('#set-room-password-btn');
  await page.waitForSelector('#set-room-password-remove-btn:not([hidden])');
  await page.click('#set-room-password-remove-btn');
  await page.waitForSelector('#room-list li[data-room="exam"] .room-lock', { state: 'hidden' });
  await screenshot(page, 'app-tools.png');

  const calls = await page.evaluate(() => window.__fakeApp.calls);
  for (const command of ['export_room', 'open_link', 'set_room_password', 'create_room']) assert.ok(calls.includes(command), command);
  assert.deepEqual(app.seen.errors, [], 'no script error');
  assert.deepEqual(await page.evaluate(() => window.__csp), [], 'no CSP violation');
  await app.context.close();
});
