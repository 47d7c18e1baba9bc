// The web client over TLS (https:// page, wss:// chat) with an account: registering a nickname from the browser,
// signing in again with the session token the tab keeps (never in localStorage, never shown to the page's UI), and
// "log out everywhere" ending it.

import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';

import { Server, launchBrowser, openClient, signIn, say, waitForMessage, screenshot } from './harness.mjs';

let server;
let browser;
let ana;

before(async () => {
  server = await new Server({ tls: true }).start();
  browser = await launchBrowser();
  ana = await openClient(browser, server);
});

after(async () => {
  if (browser) await browser.close();
  if (server) await server.close();
});

/** Everything the tab keeps in web storage, as `{ local, session }`. */
const storage = (page) =>
  page.evaluate(() => ({ local: { ...localStorage }, session: { ...sessionStorage } }));

test('over https the page chats on wss://', async () => {
  const { page } = ana;
  assert.equal(new URL(page.url()).protocol, 'https:');
  await signIn(page, 'ana');
  await say(page, 'hello over TLS');
  await waitForMessage(page, 'hello over TLS');
  assert.equal(await page.textContent('#me-identity'), 'Guest');
});

test('a nickname registered in the browser signs in again with the tab\'s token, until logged out everywhere', async () => {
  const { page } = ana;
  const password = 'correct horse battery';
  await page.click('#register-btn');
  await page.fill('#register-password', password);
  await page.fill('#register-password2', password);
  await page.click('#register-submit-btn');
  await page.waitForFunction(() => document.querySelector('#me-identity').textContent === 'Registered account');

  const kept = await storage(page);
  const tokens = Object.entries(kept.session).filter(([key]) => key.startsWith('parlor.session.'));
  assert.equal(tokens.length, 1, JSON.stringify(Object.keys(kept.session)));
  assert.match(tokens[0][1], /^[0-9a-f]{64}$/);
  const everything = JSON.stringify(kept.local);
  assert.ok(!everything.includes(tokens[0][1]) && !everything.includes(password), 'nothing secret in localStorage');
  assert.ok(!page.url().includes(tokens[0][1]));
  assert.equal(await page.inputValue('#register-password'), '', 'the password left the page');

  // Disconnect and connect again with no password: the tab's token signs in.
  await page.click('#disconnect-btn');
  await page.waitForSelector('#connect-screen:not([hidden])');
  await signIn(page, 'ana');
  await page.waitForFunction(() => document.querySelector('#me-identity').textContent === 'Registered account');

  await page.click('#logout-everywhere-btn');
  await page.waitForFunction(() => document.querySelector('#messages').textContent.includes('Logged out everywhere'));
  const after = await storage(page);
  assert.deepEqual(Object.keys(after.session).filter((key) => key.startsWith('parlor.session.')), []);

  // Now the nickname needs its password: without it the server refuses, and the form says so.
  await page.click('#disconnect-btn');
  await page.waitForSelector('#connect-screen:not([hidden])');
  await page.fill('#nick', 'ana');
  await page.click('#connect-btn');
  await page.waitForSelector('#connect-error:not([hidden])');
  assert.match(await page.textContent('#connect-error'), /password/i);
  await page.fill('#account-password', password);
  await page.click('#connect-btn');
  await page.waitForFunction(() => document.querySelector('#me-identity').textContent === 'Registered account');
  await screenshot(page, 'account.png');
  assert.deepEqual(ana.seen.errors, []);
  assert.deepEqual(ana.seen.dialogs, []);
});
