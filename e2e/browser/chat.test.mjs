// Two people chat in the web client parlor-server serves: both ways, presence, a direct message with its
// notification, and a server killed and restarted under them — the pages reconnect by themselves and a message
// written while the server was down arrives exactly once.

import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';

import { Server, launchBrowser, openClient, signIn, say, messagesWithText, waitForMessage, screenshot } from './harness.mjs';

let server;
let browser;
let ana;
let bob;

before(async () => {
  server = await new Server().start();
  browser = await launchBrowser();
  ana = await openClient(browser, server);
  bob = await openClient(browser, server);
});

after(async () => {
  if (browser) await browser.close();
  if (server) await server.close();
});

test('the browser gets the chat, not the desktop-only controls', async () => {
  const { page } = ana;
  assert.equal(await page.isVisible('#nick'), true);
  for (const id of ['#server-url', '#host-btn', '#remember', '#recent-section']) {
    assert.equal(await page.isVisible(id), false, `${id} is hidden in the browser`);
  }
  assert.equal(await page.evaluate(() => typeof window.__TAURI__), 'undefined');
});

test('two browsers chat both ways and see each other online', async () => {
  await signIn(ana.page, 'ana');
  await signIn(bob.page, 'bob');

  await say(ana.page, 'hello from ana');
  await waitForMessage(bob.page, 'hello from ana');
  await say(bob.page, 'hi ana, bob here');
  await waitForMessage(ana.page, 'hi ana, bob here');

  await ana.page.waitForSelector('#online-list li[data-nick="bob"]');
  await bob.page.waitForSelector('#online-list li[data-nick="ana"]');
  for (const { page } of [ana, bob]) {
    assert.equal(await messagesWithText(page, 'hello from ana'), 1);
    assert.equal(await messagesWithText(page, 'hi ana, bob here'), 1);
  }
});

test('a raised hand shows beside its owner for everyone, and goes down again', async () => {
  await ana.page.click('#hand-btn');
  await bob.page.waitForSelector('#online-list li[data-nick="ana"] .hand');
  // Each page draws at its own next frame: bob's having drawn says nothing about ana's yet.
  await ana.page.waitForSelector('#hand-btn[aria-pressed="true"]');
  assert.equal((await ana.page.textContent('#hand-btn')).trim(), 'Lower hand');
  await ana.page.waitForSelector('#online-list li[data-nick="ana"] .hand');
  await screenshot(bob.page, 'hand-raised.png');
  await ana.page.click('#hand-btn');
  await bob.page.waitForSelector('#online-list li[data-nick="ana"] .hand', { state: 'detached' });
  await ana.page.waitForSelector('#hand-btn[aria-pressed="false"]');
  assert.equal((await ana.page.textContent('#hand-btn')).trim(), 'Raise hand');
});

test('a direct message and a mention arrive, with notifications', async () => {
  await ana.page.click('#online-list li[data-nick="bob"]');
  await ana.page.waitForSelector('#dm-list li[data-room="@bob"]');
  await say(ana.page, 'psst bob, just for you');
  await waitForMessage(ana.page, 'psst bob, just for you');

  await bob.page.waitForSelector('#dm-list li[data-room="@ana"]');
  await bob.page.waitForFunction(() => window.__notes.length > 0);
  const notes = await bob.page.evaluate(() => window.__notes);
  assert.deepEqual(notes, [{ title: 'ana (direct message)', body: 'psst bob, just for you' }]);
  await bob.page.click('#dm-list li[data-room="@ana"]');
  await waitForMessage(bob.page, 'psst bob, just for you');
  assert.equal(await messagesWithText(bob.page, 'psst bob, just for you'), 1);

  // While bob reads the direct conversation, a mention of him in the lobby notifies him; one that does not
  // mention him does not.
  await ana.page.click('#room-list li[data-room="lobby"]');
  await say(ana.page, 'nothing for bob here');
  await say(ana.page, '@bob look at the lobby');
  await bob.page.waitForFunction(() => window.__notes.length > 1);
  await waitForMessage(ana.page, '@bob look at the lobby');
  assert.deepEqual((await bob.page.evaluate(() => window.__notes)).slice(1), [
    { title: 'ana in lobby', body: '@bob look at the lobby' },
  ]);
  await bob.page.click('#room-list li[data-room="lobby"]');
  await screenshot(bob.page, 'chat.png');
});

test('after a server crash and restart the pages reconnect and nothing is lost or doubled', async () => {
  await server.kill();
  await ana.page.waitForSelector('#banner:not([hidden])');
  await bob.page.waitForSelector('#banner:not([hidden])');

  // Written while the server is down: it waits as pending.
  await say(ana.page, 'sent while the server was down');
  await ana.page.waitForSelector('#messages li.message.pending');
  assert.equal(await messagesWithText(ana.page, 'sent while the server was down', { pending: true }), 1);

  await server.restart();
  await waitForMessage(bob.page, 'sent while the server was down');
  await waitForMessage(ana.page, 'sent while the server was down');
  await ana.page.waitForSelector('#banner', { state: 'hidden', timeout: 30000 });

  // A message after it: once it is on both screens, anything duplicated would have arrived already.
  await say(bob.page, 'back again');
  await waitForMessage(ana.page, 'back again');
  await waitForMessage(bob.page, 'back again');
  for (const { page } of [ana, bob]) {
    assert.equal(await messagesWithText(page, 'sent while the server was down'), 1);
    assert.equal(await messagesWithText(page, 'hello from ana'), 1);
    assert.equal(await page.locator('#messages li.message.pending').count(), 0);
  }
  await ana.page.waitForSelector('#online-list li[data-nick="bob"]');
  await screenshot(ana.page, 'after-restart.png');

  for (const { seen } of [ana, bob]) {
    assert.deepEqual(seen.errors, [], 'no script error');
    assert.deepEqual(seen.dialogs, []);
  }
});

test('a page opened by LAN name over plain http (not a secure context) chats too', async () => {
  // How students open it: http://NAME:PORT/ from another computer. The name resolves to this one here; the page is
  // not a secure context, so crypto.randomUUID and notifications are missing, and the Origin check must accept it.
  const lanBrowser = await launchBrowser(['--host-resolver-rules=MAP classroom.local 127.0.0.1']);
  try {
    const cy = await openClient(lanBrowser, server, `http://classroom.local:${server.port}/`);
    assert.deepEqual(await cy.page.evaluate(() => [window.isSecureContext, typeof crypto.randomUUID]), [false, 'undefined']);
    await signIn(cy.page, 'cy');
    assert.equal(await cy.page.isVisible('#dnd-toggle'), false, 'no notification switches without notifications');
    await say(cy.page, 'hello from the classroom');
    await waitForMessage(ana.page, 'hello from the classroom');
    await waitForMessage(cy.page, 'hello from the classroom');
    await say(ana.page, 'welcome, cy');
    await waitForMessage(cy.page, 'welcome, cy');
    await cy.page.waitForSelector('#online-list li[data-nick="ana"]');
    assert.deepEqual(cy.seen.errors, []);
  } finally {
    await lanBrowser.close();
  }
});
