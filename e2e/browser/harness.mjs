// What the browser tests share: the real parlor-server binary on a loopback port with a temporary data directory
// (killed and restarted on the same port when a test asks; its moderator token and bot tokens at hand), Debian's
// Chromium driven by playwright-core, a page signed in to the web client the server serves, raw protocol sockets
// opened from a page, and the programs a test runs (the Python examples).

import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, mkdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { after, before } from 'node:test';
import { chromium } from 'playwright-core';

const here = dirname(fileURLToPath(import.meta.url));
const root = resolve(here, '..', '..');

/** The server binary: PARLOR_SERVER, else the debug build in CARGO_TARGET_DIR (or target/). */
export const SERVER_BIN =
  process.env.PARLOR_SERVER || join(process.env.CARGO_TARGET_DIR || join(root, 'target'), 'debug', 'parlor-server');

/** Where screenshots go: PARLOR_ARTIFACTS, else artifacts/browser/ in the repository. */
export const ARTIFACTS = process.env.PARLOR_ARTIFACTS || join(root, 'artifacts', 'browser');

/** The Python that runs examples/python (it needs `websockets` for the WebSocket ticker): PARLOR_PYTHON, else python3. */
export const PYTHON = process.env.PARLOR_PYTHON || 'python3';

/** The repository's root, for the examples. */
export const ROOT = root;

/**
 * PARLOR_UI_DIR (for working on the UI, never in CI): pages get `index.html`, `css/` and `js/` from this folder
 * instead of the copy embedded in the server binary, with the server's own headers (its CSP included), so UI edits
 * can be tried without rebuilding the server.
 */
export const UI_DIR = process.env.PARLOR_UI_DIR || '';

const UI_TYPES = { html: 'text/html; charset=utf-8', css: 'text/css; charset=utf-8', js: 'text/javascript; charset=utf-8' };

/** With PARLOR_UI_DIR set, serves the UI files of `context`'s pages from that folder. */
export async function serveUiDir(context) {
  if (!UI_DIR) return;
  const file = (url) => {
    const path = url.pathname === '/' ? '/index.html' : url.pathname;
    if (!/^\/(index\.html|css\/[\w./-]+|js\/[\w./-]+)$/.test(path) || path.includes('..')) return null;
    const local = join(UI_DIR, path);
    return existsSync(local) ? local : null;
  };
  await context.route((url) => Boolean(file(url)), async (route) => {
    const local = file(new URL(route.request().url()));
    const response = await route.fetch();
    const type = UI_TYPES[local.split('.').pop()] || 'application/octet-stream';
    await route.fulfill({ response, status: 200, headers: { ...response.headers(), 'content-type': type }, body: readFileSync(local) });
  });
}

/** Chromium: Debian's package, never a downloaded browser. */
export const CHROMIUM = process.env.PARLOR_CHROMIUM || '/usr/bin/chromium';

/**
 * A parlor-server process with its own data directory; `restart()` keeps the port and the history. With `tls`, it
 * serves `https://` and `wss://` with its self-signed certificate.
 */
export class Server {
  constructor({ tls = false } = {}) {
    this.tls = tls;
    this.dataDir = mkdtempSync(join(tmpdir(), 'parlor-browser-'));
    this.child = null;
    this.port = 0;
    this.log = [];
  }

  /** Starts the binary and resolves once it printed the address it listens on. */
  async start() {
    const bind = `127.0.0.1:${this.port}`;
    // Many servers run at once here: none answers join codes (their UDP port would clash).
    const args = ['--bind', bind, '--data-dir', this.dataDir, '--log-level', 'warn', '--join-code-port', '0', ...(this.tls ? ['--tls'] : [])];
    const child = spawn(SERVER_BIN, args, {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    this.child = child;
    child.stderr.on('data', (chunk) => this.log.push(String(chunk)));
    const firstLine = await new Promise((resolvePromise, reject) => {
      const lines = createInterface({ input: child.stdout });
      lines.once('line', (line) => resolvePromise(line));
      child.once('error', reject);
      child.once('exit', (code) => reject(new Error(`parlor-server exited (${code}) before listening: ${this.log.join('')}`)));
    });
    const match = /listening on wss?:\/\/127\.0\.0\.1:(\d+)\/ws/.exec(firstLine);
    if (!match) throw new Error(`unexpected first line from parlor-server: ${firstLine}`);
    this.port = Number(match[1]);
    return this;
  }

  get url() {
    return `${this.tls ? 'https' : 'http'}://127.0.0.1:${this.port}/`;
  }

  /** SIGKILL: no goodbye to the clients, as in a crash or a pulled plug. Resolves once the process is gone. */
  async kill() {
    const child = this.child;
    if (!child || child.exitCode !== null || child.signalCode !== null) return;
    const gone = new Promise((r) => child.once('exit', r));
    child.kill('SIGKILL');
    await gone;
    this.child = null;
  }

  /** The moderator token the server wrote into its data directory (PROTOCOL.md §6.14). */
  moderatorToken() {
    return readFileSync(join(this.dataDir, 'moderator-token'), 'utf8').trim();
  }

  /** Makes a bot token for `name` with `parlor-server bot add` on this server's data (it works while it runs). */
  async botToken(name) {
    const { code, stdout, stderr } = await run(SERVER_BIN, ['bot', 'add', name, '--data-dir', this.dataDir]);
    const token = stdout.split('\n')[0].trim();
    if (code !== 0 || !/^[0-9a-f]{64}$/.test(token)) throw new Error(`bot add ${name} failed (${code}): ${stdout}${stderr}`);
    return token;
  }

  async restart() {
    await this.kill();
    return this.start();
  }

  async close() {
    await this.kill();
    rmSync(this.dataDir, { recursive: true, force: true });
  }
}

/**
 * Launches headless Chromium with the flags that keep it quiet and offline. `extraArgs`: e.g. a host resolver rule,
 * so a page can be opened under a LAN name such as `classroom.local`.
 */
export function launchBrowser(extraArgs = []) {
  return chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    args: [
      ...extraArgs,
      // A page served through a route has no address, and Chromium then treats the server's loopback as "local
      // network" and blocks the WebSocket: only for PARLOR_UI_DIR.
      ...(UI_DIR ? ['--disable-features=LocalNetworkAccessChecks'] : []),
      '--no-sandbox',
      '--disable-gpu',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
      '--no-first-run',
    ],
  });
}

/**
 * A page of its own browser context with the web client open, recording what a test checks afterwards: dialogs
 * (accepted, so nothing blocks), page errors, console errors, CSP violation reports, and notifications (the
 * Notification API replaced by a recorder, permission granted).
 */
export async function openClient(browser, server, url = server.url) {
  // The certificate is self-signed: the browser is told to accept it, as a student does after comparing it.
  const context = await browser.newContext({ ignoreHTTPSErrors: server.tls });
  await serveUiDir(context);
  const page = await context.newPage();
  const seen = { dialogs: [], errors: [], console: [] };
  page.on('dialog', (dialog) => {
    seen.dialogs.push(dialog.message());
    dialog.dismiss().catch(() => {});
  });
  page.on('pageerror', (err) => seen.errors.push(String(err)));
  page.on('console', (msg) => {
    if (msg.type() === 'error' || msg.type() === 'warning') seen.console.push(msg.text());
  });
  await page.addInitScript(() => {
    window.__xss = 0;
    window.__csp = [];
    window.__notes = [];
    document.addEventListener('securitypolicyviolation', (e) => {
      window.__csp.push(`${e.violatedDirective} ${e.blockedURI}`);
    });
    class RecordingNotification {
      constructor(title, options = {}) {
        window.__notes.push({ title, body: options.body || '' });
      }
      close() {}
      static requestPermission() {
        return Promise.resolve('granted');
      }
    }
    RecordingNotification.permission = 'granted';
    window.Notification = RecordingNotification;
  });
  await page.goto(url);
  return { context, page, seen };
}

/** Fills the connect form with `nick` and waits for the chat screen. */
export async function signIn(page, nick) {
  await page.fill('#nick', nick);
  await page.click('#connect-btn');
  await page.waitForSelector('#chat-screen:not([hidden])');
  await page.waitForSelector('#room-list li[data-room="lobby"]');
}

/** A class of two: a fresh server, Chromium, and the pages of `ana` and `bob` signed in. `close()` ends it all. */
async function classOfTwo() {
  const server = await new Server().start();
  const browser = await launchBrowser();
  const ana = await openClient(browser, server);
  const bob = await openClient(browser, server);
  await signIn(ana.page, 'ana');
  await signIn(bob.page, 'bob');
  return {
    server,
    browser,
    ana,
    bob,
    async close() {
      await browser.close();
      await server.close();
    },
  };
}

/**
 * Opens a class of two before the file's first test and closes it after its last: `assign` receives
 * `{ server, browser, ana, bob }` to keep in the file's own variables.
 */
export function useClassOfTwo(assign) {
  let pages;
  before(async () => {
    pages = await classOfTwo();
    assign(pages);
  });
  after(async () => {
    if (pages) await pages.close();
  });
}

/** Opens room `room` from the sidebar and waits until it is joined and on screen. */
export async function openRoom(page, room) {
  await page.click(`#room-list li[data-room="${room}"] button`);
  await page.waitForFunction(
    (r) => document.querySelector('#room-title').textContent === r &&
      document.querySelector(`#room-list li[data-room="${r}"]:not(.not-joined)`) !== null,
    room,
  );
}

/** Types `text` in the composer and sends it with Enter. */
export async function say(page, text) {
  await page.fill('#composer-input', text);
  await page.press('#composer-input', 'Enter');
}

/** The message list's entries whose text is exactly `text` (`pending`: only those not yet acknowledged). */
export function messagesWithText(page, text, { pending = false } = {}) {
  return page.evaluate(
    ([wanted, onlyPending]) =>
      [...document.querySelectorAll(`#messages li.message${onlyPending ? '.pending' : ''} .text`)].filter(
        (node) => node.textContent === wanted,
      ).length,
    [text, pending],
  );
}

/** Waits until the message list holds exactly one acknowledged message with `text`. */
export async function waitForMessage(page, text) {
  await page.waitForFunction(
    (wanted) =>
      [...document.querySelectorAll('#messages li.message:not(.pending) .text')].some((n) => n.textContent === wanted),
    text,
    { timeout: 30000 },
  );
}

/** Saves a screenshot of the window under ARTIFACTS (the chat fills the window; the list scrolls inside it). */
export async function screenshot(page, name) {
  mkdirSync(ARTIFACTS, { recursive: true });
  await page.screenshot({ path: join(ARTIFACTS, name) });
}

/**
 * Speaks the protocol directly from `page` (its origin's `/ws`, which the CSP allows) as `nick`, for what the UI
 * cannot produce (e.g. a reaction that is not one of the picker's emoji): `hello`, then each of `frames`, then waits
 * `settleMs` and closes. Resolves with every event received, so the test can check what the server answered.
 */
export function rawFrames(page, nick, frames, settleMs = 500) {
  return page.evaluate(
    ([who, toSend, settle]) =>
      new Promise((resolvePromise, reject) => {
        const events = [];
        const ws = new WebSocket(`${location.protocol === 'https:' ? 'wss' : 'ws'}://${location.host}/ws`);
        ws.onerror = () => reject(new Error('raw socket failed'));
        ws.onopen = () => ws.send(JSON.stringify({ type: 'hello', protocol: 1, nick: who, client: 'e2e-raw' }));
        ws.onmessage = (e) => {
          const ev = JSON.parse(e.data);
          events.push(ev);
          if (ev.type !== 'welcome') return;
          for (const frame of toSend) ws.send(JSON.stringify(frame));
          setTimeout(() => {
            ws.close(1000, 'done');
            resolvePromise(events);
          }, settle);
        };
      }),
    [nick, frames, settleMs],
  );
}

/** Runs a program to its end: `{ code, stdout, stderr }`. */
export function run(program, args, { timeoutMs = 60000 } = {}) {
  return new Promise((resolvePromise, reject) => {
    const child = spawn(program, args, { stdio: ['ignore', 'pipe', 'pipe'], cwd: root });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk) => (stdout += chunk));
    child.stderr.on('data', (chunk) => (stderr += chunk));
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.once('error', (err) => {
      clearTimeout(timer);
      reject(err);
    });
    child.once('exit', (code, signal) => {
      clearTimeout(timer);
      resolvePromise({ code: code ?? signal, stdout, stderr });
    });
  });
}

/**
 * A protocol connection kept open in `page` (its origin's `/ws`) as `nick`, for a test that plays a part the web
 * client cannot (a moderator with the server's token, a watcher that records every event): `hello`, then `frames`.
 * Resolves once `welcome` came, with `send(frame)`, `events()` (everything received so far), `waitFor(test)` (the
 * first event for which `test(event)` holds, polled) and `close()`.
 */
export async function openRaw(page, nick, frames = []) {
  const id = await page.evaluate(
    ([who, toSend]) =>
      new Promise((resolvePromise, reject) => {
        window.__raw = window.__raw || [];
        const entry = { events: [], ws: new WebSocket(`${location.protocol === 'https:' ? 'wss' : 'ws'}://${location.host}/ws`) };
        const index = window.__raw.push(entry) - 1;
        entry.ws.onerror = () => reject(new Error('raw socket failed'));
        entry.ws.onopen = () => entry.ws.send(JSON.stringify({ type: 'hello', protocol: 1, nick: who, client: 'e2e-raw' }));
        entry.ws.onmessage = (e) => {
          const ev = JSON.parse(e.data);
          entry.events.push(ev);
          if (ev.type !== 'welcome') return;
          for (const frame of toSend) entry.ws.send(JSON.stringify(frame));
          resolvePromise(index);
        };
      }),
    [nick, frames],
  );
  const events = () => page.evaluate((i) => window.__raw[i].events, id);
  return {
    send: (frame) => page.evaluate(([i, f]) => window.__raw[i].ws.send(JSON.stringify(f)), [id, frame]),
    events,
    async waitFor(test, { timeout = 15000, what = 'an event' } = {}) {
      const until = Date.now() + timeout;
      for (;;) {
        const found = (await events()).find(test);
        if (found) return found;
        if (Date.now() > until) throw new Error(`${nick}'s raw socket: no ${what} within ${timeout} ms`);
        await new Promise((r) => setTimeout(r, 50));
      }
    },
    close: () => page.evaluate((i) => window.__raw[i].ws.close(1000, 'done'), id),
  };
}
