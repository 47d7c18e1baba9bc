// A class in the web client parlor-server serves (PROTOCOL.md revision 5): the teacher asks a poll and both vote —
// each page's bar chart follows every vote, switch and withdrawal, and closing it leaves the final results; a
// reaction chip counts both people and toggles; a reply quotes what it answers; an edit shows "(edited)" and a
// deletion its placeholder on the other page; a reloaded page reads all of that back from history; a page whose
// connection dropped gets the changes it missed when it resumes (`join` with `after_rev`); and a poll written while
// the server is down waits as pending and goes out, once, when it is back.

import { test } from 'node:test';
import assert from 'node:assert/strict';

import { openClient, signIn, say, waitForMessage, screenshot, useClassOfTwo } from './harness.mjs';

let server;
let browser;
let ana; // The teacher: creates the poll.
let bob; // A student.

useClassOfTwo((pages) => ({ server, browser, ana, bob } = pages));

const exact = (text) => new RegExp(`^${text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}$`);

/** The acknowledged message whose text is `text`. */
const row = (page, text) =>
  page.locator('#messages li.message:not(.pending)').filter({ has: page.locator('.text', { hasText: exact(text) }) });

/** Hovers a message (its actions show on hover) and clicks one of its actions. */
async function action(page, text, selector) {
  const li = row(page, text);
  await li.hover();
  await li.locator(selector).click();
}

/**
 * Waits until the poll asking `question` shows `counts` ("1 vote · 50%", …) and each bar's fill has reached that
 * share of the bar's width (the bars move with a transition, so this also waits for it to end).
 */
function waitForPoll(page, question, counts) {
  return page.waitForFunction(
    ([q, want]) => {
      const li = [...document.querySelectorAll('#messages li.message:not(.pending)')].find(
        (n) => n.querySelector('.text').textContent === q,
      );
      const poll = li && li.querySelector('.poll');
      if (!poll) return false;
      const got = [...poll.querySelectorAll('.poll-count')].map((n) => n.textContent);
      if (JSON.stringify(got) !== JSON.stringify(want)) return false;
      return [...poll.querySelectorAll('.poll-option')].every((option, i) => {
        const share = Number(/(\d+)%$/.exec(want[i])[1]) / 100;
        const bar = option.querySelector('.poll-bar').getBoundingClientRect().width;
        const fill = option.querySelector('.poll-fill').getBoundingClientRect().width;
        return bar > 0 && Math.abs(fill - bar * share) <= bar * 0.01 + 1;
      });
    },
    [question, counts],
    { timeout: 15000 },
  );
}

/** The options of the poll asking `question` that are highlighted as the user's own choices. */
const mine = (page, question) =>
  row(page, question).evaluate((li) => [...li.querySelectorAll('.poll-option.mine')].map((b) => Number(b.dataset.index)));

const vote = (page, question, index) => row(page, question).locator(`.poll-option[data-index="${index}"]`).click();

/** Opens the poll dialog and fills it. */
async function fillPoll(page, question, options, { multiple = false } = {}) {
  await page.click('#poll-btn');
  await page.waitForSelector('#poll-dialog[open]');
  await page.fill('#poll-question', question);
  const inputs = page.locator('#poll-options .poll-option-input');
  while ((await inputs.count()) < options.length) await page.click('#poll-add-option-btn');
  for (let i = 0; i < options.length; i++) await inputs.nth(i).fill(options[i]);
  if (multiple) await page.check('#poll-multiple');
}

const TRIP = 'Which day for the museum trip?';

test('the poll dialog says what is wrong before anything is sent', async () => {
  const { page } = ana;
  await fillPoll(page, TRIP, ['Monday']);
  await page.click('#poll-submit-btn');
  await page.waitForSelector('#poll-error:not([hidden])');
  assert.match(await page.textContent('#poll-error'), /at least 2 options/);
  await page.locator('#poll-options .poll-option-input').nth(1).fill('monday ');
  await page.click('#poll-submit-btn');
  assert.match(await page.textContent('#poll-error'), /twice/);
  await page.locator('#poll-options .poll-option-input').nth(1).fill('x'.repeat(101));
  await page.click('#poll-submit-btn');
  assert.match(await page.textContent('#poll-error'), /101 characters/);
  assert.equal(await page.isVisible('#poll-dialog'), true, 'still open');
  await page.click('#poll-cancel-btn');
  await page.waitForSelector('#poll-dialog', { state: 'hidden' });
  assert.equal(await page.locator('#messages .poll').count(), 0, 'nothing was sent');
});

test('a poll: both vote and both bar charts follow, then the teacher closes it', async () => {
  await fillPoll(ana.page, TRIP, ['Monday', 'Wednesday', 'Friday']);
  await ana.page.click('#poll-submit-btn');
  await ana.page.waitForSelector('#poll-dialog', { state: 'hidden' });
  for (const { page } of [ana, bob]) await waitForPoll(page, TRIP, ['0 votes · 0%', '0 votes · 0%', '0 votes · 0%']);
  assert.equal(await row(bob.page, TRIP).locator('.poll-kind').textContent(), 'Poll · choose one');
  assert.equal(await row(ana.page, TRIP).locator('.poll-close-btn').isVisible(), true, 'the creator may close it');
  assert.equal(await row(bob.page, TRIP).locator('.poll-close-btn').isVisible(), false, 'a student may not');

  await vote(bob.page, TRIP, 1);
  for (const { page } of [ana, bob]) await waitForPoll(page, TRIP, ['0 votes · 0%', '1 vote · 100%', '0 votes · 0%']);
  await vote(ana.page, TRIP, 0);
  for (const { page } of [ana, bob]) await waitForPoll(page, TRIP, ['1 vote · 50%', '1 vote · 50%', '0 votes · 0%']);
  assert.deepEqual(await mine(bob.page, TRIP), [1]);
  assert.deepEqual(await mine(ana.page, TRIP), [0]);
  assert.equal(await row(ana.page, TRIP).locator('.poll-option[data-index="1"]').getAttribute('title'), 'Wednesday: bob');

  // Bob changes his mind: a single-choice vote moves; clicking his choice again withdraws it.
  await vote(bob.page, TRIP, 0);
  for (const { page } of [ana, bob]) await waitForPoll(page, TRIP, ['2 votes · 100%', '0 votes · 0%', '0 votes · 0%']);
  assert.deepEqual(await mine(bob.page, TRIP), [0]);
  assert.equal(await row(bob.page, TRIP).locator('.poll-voters').first().textContent(), 'ana and bob');
  await vote(bob.page, TRIP, 0);
  for (const { page } of [ana, bob]) await waitForPoll(page, TRIP, ['1 vote · 100%', '0 votes · 0%', '0 votes · 0%']);
  assert.deepEqual(await mine(bob.page, TRIP), []);
  await vote(bob.page, TRIP, 2);
  for (const { page } of [ana, bob]) await waitForPoll(page, TRIP, ['1 vote · 50%', '0 votes · 0%', '1 vote · 50%']);
  await screenshot(bob.page, 'poll-chart.png');

  await row(ana.page, TRIP).locator('.poll-close-btn').click();
  for (const { page } of [ana, bob]) {
    await page.waitForFunction((q) => {
      const li = [...document.querySelectorAll('#messages li.message')].find((n) => n.querySelector('.text').textContent === q);
      return li && li.querySelector('.poll.closed');
    }, TRIP);
    assert.equal(await row(page, TRIP).locator('.poll-kind').textContent(), 'Final results');
    assert.equal(await row(page, TRIP).locator('.poll-option:not([disabled])').count(), 0, 'no more voting');
    assert.equal(await row(page, TRIP).locator('.poll-close-btn').isVisible(), false);
  }
  await waitForPoll(bob.page, TRIP, ['1 vote · 50%', '0 votes · 0%', '1 vote · 50%']);
  await screenshot(ana.page, 'poll-closed.png');
});

test('a multiple-choice poll toggles each choice and sends them all', async () => {
  const SNACKS = 'Which snacks should we bring?';
  await fillPoll(bob.page, SNACKS, ['Apples', 'Crisps', 'Grapes'], { multiple: true });
  await bob.page.click('#poll-submit-btn');
  await waitForPoll(ana.page, SNACKS, ['0 votes · 0%', '0 votes · 0%', '0 votes · 0%']);
  assert.equal(await row(ana.page, SNACKS).locator('.poll-kind').textContent(), 'Poll · choose any');
  await vote(bob.page, SNACKS, 0);
  await waitForPoll(bob.page, SNACKS, ['1 vote · 100%', '0 votes · 0%', '0 votes · 0%']);
  await vote(bob.page, SNACKS, 2);
  await waitForPoll(bob.page, SNACKS, ['1 vote · 50%', '0 votes · 0%', '1 vote · 50%']);
  await vote(ana.page, SNACKS, 2);
  for (const { page } of [ana, bob]) await waitForPoll(page, SNACKS, ['1 vote · 33%', '0 votes · 0%', '2 votes · 67%']);
  assert.deepEqual(await mine(bob.page, SNACKS), [0, 2]);
  await vote(bob.page, SNACKS, 0);
  for (const { page } of [ana, bob]) await waitForPoll(page, SNACKS, ['0 votes · 0%', '0 votes · 0%', '2 votes · 100%']);
  assert.deepEqual(await mine(bob.page, SNACKS), [2]);
  // A moderator is not needed: the student who asked may close his own poll; the teacher (no moderator here) may not.
  assert.equal(await row(ana.page, SNACKS).locator('.poll-close-btn').isVisible(), false);
  assert.equal(await row(bob.page, SNACKS).locator('.poll-close-btn').isVisible(), true);
});

const SNACKS_Q = 'Who brought the snacks?';

test('a reaction shows as a chip with its count on both pages, and toggles', async () => {
  await say(ana.page, SNACKS_Q);
  await waitForMessage(bob.page, SNACKS_Q);
  await action(bob.page, SNACKS_Q, '.react-btn');
  await bob.page.locator('.react-picker button.react-choice[data-emoji="👍"]').click();
  await bob.page.waitForSelector('.react-picker', { state: 'detached' });
  const chip = (page) => row(page, SNACKS_Q).locator('button.reaction[data-emoji="👍"]');
  await chip(ana.page).locator('.reaction-count', { hasText: /^1$/ }).waitFor();
  assert.equal(await chip(ana.page).getAttribute('title'), 'bob reacted with 👍');
  assert.equal(await chip(ana.page).getAttribute('aria-pressed'), 'false');
  assert.equal(await chip(bob.page).getAttribute('aria-pressed'), 'true', 'his own is highlighted');

  await chip(ana.page).click();
  for (const { page } of [ana, bob]) await chip(page).locator('.reaction-count', { hasText: /^2$/ }).waitFor();
  assert.equal(await chip(ana.page).getAttribute('title'), 'bob and you reacted with 👍');
  assert.match(await chip(ana.page).getAttribute('class'), /\bmine\b/);

  await chip(bob.page).click(); // Bob takes his back.
  for (const { page } of [ana, bob]) await chip(page).locator('.reaction-count', { hasText: /^1$/ }).waitFor();
  assert.equal(await chip(bob.page).getAttribute('aria-pressed'), 'false');
  assert.equal(await chip(bob.page).getAttribute('title'), 'ana reacted with 👍');
});

test('a reply quotes the message it answers', async () => {
  await action(bob.page, SNACKS_Q, '.reply-btn');
  await bob.page.waitForSelector('#reply-preview:not([hidden])');
  assert.equal((await bob.page.textContent('#reply-preview .reply-label')).replace(/\s+/g, ' '), `Replying to ana: ${SNACKS_Q}`);
  await bob.page.click('#reply-cancel-btn');
  await bob.page.waitForSelector('#reply-preview', { state: 'hidden' });
  await action(bob.page, SNACKS_Q, '.reply-btn');
  await say(bob.page, 'I did, apples for everyone');
  await bob.page.waitForSelector('#reply-preview', { state: 'hidden' });
  await waitForMessage(ana.page, 'I did, apples for everyone');
  for (const { page } of [ana, bob]) {
    const quote = row(page, 'I did, apples for everyone').locator('.quote');
    await quote.waitFor();
    assert.equal(await quote.locator('.quote-from').textContent(), 'ana');
    assert.equal(await quote.locator('.quote-text').textContent(), SNACKS_Q);
  }
  // A message sent without a reply in preparation carries no quote.
  await say(bob.page, 'plain again');
  await waitForMessage(ana.page, 'plain again');
  assert.equal(await row(ana.page, 'plain again').locator('.quote').isVisible(), false);
});

test('an edit shows its new text and "(edited)" on the other page; only the sender may edit', async () => {
  await say(ana.page, 'Meet at the gate at 11');
  await waitForMessage(bob.page, 'Meet at the gate at 11');
  const li = row(bob.page, 'Meet at the gate at 11');
  await li.hover();
  assert.equal(await li.locator('.edit-btn').isVisible(), false, 'not on someone else\'s message');
  assert.equal(await li.locator('.delete-btn').isVisible(), false);

  await action(ana.page, 'Meet at the gate at 11', '.edit-btn');
  const box = ana.page.locator('#messages .edit-input');
  assert.equal(await box.inputValue(), 'Meet at the gate at 11');
  await box.fill('never mind');
  await box.press('Escape'); // Cancelled: nothing changes.
  await box.waitFor({ state: 'detached' });
  assert.equal(await row(ana.page, 'Meet at the gate at 11').count(), 1);

  await action(ana.page, 'Meet at the gate at 11', '.edit-btn');
  await box.fill('Meet at the gate at 10');
  await box.press('Enter');
  await waitForMessage(bob.page, 'Meet at the gate at 10');
  for (const { page } of [ana, bob]) {
    const edited = row(page, 'Meet at the gate at 10').locator('.edited');
    await edited.waitFor();
    assert.equal((await edited.textContent()).trim(), '(edited)');
  }
  assert.equal(await row(bob.page, 'Meet at the gate at 11').count(), 0, 'replaced in place');
});

test('a deletion leaves a placeholder with no text, reactions or actions', async () => {
  await say(ana.page, 'oops, wrong room');
  await waitForMessage(bob.page, 'oops, wrong room');
  await action(bob.page, 'oops, wrong room', '.react-btn');
  await bob.page.locator('.react-picker button.react-choice[data-emoji="😂"]').click();
  await row(ana.page, 'oops, wrong room').locator('button.reaction[data-emoji="😂"]').waitFor();

  await action(ana.page, 'oops, wrong room', '.delete-btn');
  await ana.page.waitForSelector('#delete-dialog[open]');
  assert.equal(await ana.page.textContent('#delete-preview'), 'oops, wrong room');
  await ana.page.click('#delete-cancel-btn');
  await ana.page.waitForSelector('#delete-dialog', { state: 'hidden' });
  assert.equal(await row(ana.page, 'oops, wrong room').count(), 1, 'cancelled: still there');

  const seq = await row(ana.page, 'oops, wrong room').getAttribute('data-seq');
  await action(ana.page, 'oops, wrong room', '.delete-btn');
  await ana.page.click('#delete-confirm-btn');
  for (const { page } of [ana, bob]) {
    const li = page.locator(`#messages li.message.deleted[data-seq="${seq}"]`);
    await li.waitFor();
    assert.equal(await li.locator('.deleted-note').textContent(), 'message deleted');
    assert.equal(await li.locator('.text').textContent(), '');
    assert.equal(await li.locator('.reaction').count(), 0);
    await li.hover();
    assert.equal(await li.locator('.actions').isVisible(), false, 'no actions on a deleted message');
  }
  assert.equal(await ana.page.evaluate(() => getComputedStyle(document.querySelector('#messages li.deleted .deleted-note')).fontStyle), 'italic');
  assert.deepEqual(ana.seen.dialogs, [], 'the confirmation is the page\'s own dialog');
});

/** What a page shows of the class so far, as read by a test. */
async function snapshot(page) {
  return page.evaluate(() => {
    const rows = [...document.querySelectorAll('#messages li.message:not(.pending)')];
    const find = (t) => rows.find((n) => n.querySelector('.text').textContent === t);
    const trip = find('Which day for the museum trip?');
    return {
      tripClosed: Boolean(trip && trip.querySelector('.poll.closed')),
      tripCounts: trip ? [...trip.querySelectorAll('.poll-count')].map((n) => n.textContent) : [],
      edited: Boolean(find('Meet at the gate at 10') && !find('Meet at the gate at 10').querySelector('.edited').hidden),
      deleted: rows.filter((n) => n.classList.contains('deleted')).length,
      thumbs: (find('Who brought the snacks?')?.querySelector('.reaction[data-emoji="👍"] .reaction-count') || {}).textContent,
      quote: find('I did, apples for everyone')?.querySelector('.quote-text').textContent,
    };
  });
}

test('after a reload, history shows the same polls, edits, deletions, reactions and quotes', async () => {
  const expected = {
    tripClosed: true,
    tripCounts: ['1 vote · 50%', '0 votes · 0%', '1 vote · 50%'],
    edited: true,
    deleted: 1,
    thumbs: '1',
    quote: 'Who brought the snacks?',
  };
  assert.deepEqual(await snapshot(bob.page), expected, 'live');
  await bob.page.reload();
  await signIn(bob.page, 'bob');
  await waitForMessage(bob.page, 'plain again');
  await waitForPoll(bob.page, TRIP, expected.tripCounts);
  assert.deepEqual(await snapshot(bob.page), expected, 'from history');
  assert.deepEqual(await mine(bob.page, TRIP), [2], 'his own choice is still his');
  assert.deepEqual(bob.seen.errors, []);
  await screenshot(bob.page, 'classroom.png');
});

test('a page that lost its connection gets the changes it missed when it resumes', async () => {
  // Cy's page can have its WebSocket cut, and new ones sent to a path that refuses them while `__hold` is set.
  const cy = await openClient(browser, server);
  await cy.page.addInitScript(() => {
    const Real = window.WebSocket;
    window.__frames = [];
    window.__sockets = [];
    window.__hold = false;
    window.WebSocket = class extends Real {
      constructor(url, protocols) {
        super(window.__hold ? url.replace(/\/ws$/, '/held') : url, protocols);
        window.__sockets.push(this);
      }
      send(data) {
        window.__frames.push(JSON.parse(data));
        super.send(data);
      }
    };
  });
  await cy.page.reload();
  await signIn(cy.page, 'cy');
  await say(ana.page, 'Bring a packed lunch');
  await waitForMessage(cy.page, 'Bring a packed lunch');

  await cy.page.evaluate(() => {
    window.__hold = true;
    window.__sockets.at(-1).close();
  });
  await cy.page.waitForSelector('#banner:not([hidden])');
  // Meanwhile the message cy holds is edited and reacted to.
  await action(ana.page, 'Bring a packed lunch', '.edit-btn');
  await ana.page.locator('#messages .edit-input').fill('Bring a packed lunch and water');
  await ana.page.locator('#messages .edit-input').press('Enter');
  await waitForMessage(ana.page, 'Bring a packed lunch and water');
  await action(bob.page, 'Bring a packed lunch and water', '.react-btn');
  await bob.page.locator('.react-picker button.react-choice[data-emoji="🎉"]').click();
  await row(ana.page, 'Bring a packed lunch and water').locator('button.reaction[data-emoji="🎉"]').waitFor();

  await cy.page.evaluate(() => {
    window.__hold = false;
  });
  await waitForMessage(cy.page, 'Bring a packed lunch and water');
  await row(cy.page, 'Bring a packed lunch and water').locator('button.reaction[data-emoji="🎉"] .reaction-count', { hasText: /^1$/ }).waitFor();
  assert.equal(await row(cy.page, 'Bring a packed lunch and water').locator('.edited').isVisible(), true);
  const joins = await cy.page.evaluate(() => window.__frames.filter((f) => f.type === 'join' && f.room === 'lobby'));
  const resumed = joins.at(-1);
  assert.equal(typeof resumed.after, 'number', `the rejoin resumes: ${JSON.stringify(joins)}`);
  assert.equal(typeof resumed.after_rev, 'number', 'and asks for the changes since the revision it had seen');
  assert.equal(await cy.page.locator('#messages li.message:not(.pending) .text', { hasText: exact('Bring a packed lunch and water') }).count(), 1);
  assert.deepEqual(cy.seen.errors, []);
  await cy.context.close();
});

test('a poll written while the server is down waits, then goes out once with its options', async () => {
  const LATER = 'Shall we go anyway if it rains?';
  await server.kill();
  await ana.page.waitForSelector('#banner:not([hidden])');
  await fillPoll(ana.page, LATER, ['Yes', 'No']);
  await ana.page.click('#poll-submit-btn');
  const pending = ana.page.locator('#messages li.message.pending');
  await pending.locator('.poll').waitFor();
  assert.deepEqual(await pending.locator('.poll-label').allTextContents(), ['Yes', 'No']);
  assert.equal(await pending.locator('.poll-option:not([disabled])').count(), 0, 'nothing to vote on yet');

  await server.restart();
  await waitForPoll(bob.page, LATER, ['0 votes · 0%', '0 votes · 0%']);
  await pending.waitFor({ state: 'detached', timeout: 30000 });
  await vote(bob.page, LATER, 0);
  for (const { page } of [ana, bob]) {
    await waitForPoll(page, LATER, ['1 vote · 100%', '0 votes · 0%']);
    assert.equal(await row(page, LATER).count(), 1, 'posted once');
  }
});
