// Hostile text in the web client stays text: an XSS corpus sent as messages and as a room topic (and tried as a
// nickname, which the name rules refuse), then as a poll's question and options, as reactions (raw frames, since the
// picker only offers emoji) and in a reply's quote, then as live data series names (drawn in the chart's legend and
// SVG) and as a moderator's pinned announcement, then as Markdown (links to `javascript:` and `data:`, markers
// around HTML, URLs with quotes and angle brackets) and as a search query, must show up verbatim (or, for Markdown,
// as the text it formats), run nothing (no dialog, no global flag set by a payload), inject no element but the
// formatting's own, and trip no Content Security Policy report. The CSP itself is checked to be in force.

import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';

import { Server, launchBrowser, openClient, signIn, say, waitForMessage, screenshot, rawFrames } from './harness.mjs';

/** Each would set `window.__xss` or open a dialog if the UI ever handed it to the HTML parser or to a URL. */
const CORPUS = [
  '<script>window.__xss = 1; alert("script")</script>',
  '<img src=x onerror="window.__xss = 2; alert(\'img\')">',
  '<svg onload="window.__xss = 3; alert(\'svg\')"><circle r="5"/></svg>',
  '<svg><script>window.__xss = 4</script></svg>',
  '<a href="javascript:window.__xss = 5; alert(\'link\')">click me</a>',
  'javascript:window.__xss=6;alert("bare")',
  '<iframe src="javascript:parent.__xss = 7; alert(\'frame\')"></iframe>',
  '<iframe srcdoc="<script>parent.__xss = 8</script>"></iframe>',
  '"><img src=x onerror=alert("attr")>',
  "' onmouseover='window.__xss = 9' x='",
  '</li></ul><script>window.__xss = 10</script>',
  '</textarea><img src=x onerror=alert("textarea")>',
  '<style>body { display: none }</style><link rel=stylesheet href="data:text/css,body{display:none}">',
  '<math><mtext><table><mglyph><style><img src=x onerror="window.__xss = 11">',
  '<object data="javascript:alert(\'object\')"></object><embed src="javascript:alert(1)">',
  '<details open ontoggle="window.__xss = 12">',
  '<base href="javascript:alert(1)//">',
  '<form action="javascript:alert(1)"><button>go</button></form>',
  '${alert(1)} {{constructor.constructor("window.__xss = 13")()}}',
  '&lt;script&gt;alert(1)&lt;/script&gt; &#60;img src=x onerror=alert(1)&#62;',
  'right\u200fto\u200eleft \u05e9\u05dc\u05d5\u05dd <b>bold</b> \u0645\u0631\u062d\u0628\u0627 @bob',
  `<img src=x onerror="window.__xss = 14">${'\u{1F600}<b>x</b>'.repeat(300)}`,
  '<img src=x onerror=alert(1)>'.repeat(4000 / 28),
];

/** Bidirectional override characters: refused by the server (PROTOCOL.md §4), so they never reach a screen. */
const BIDI = 'invoice \u202egnp.exe\u202c <img src=x onerror="window.__xss = 15">';

/** Topics are one line of at most 200 characters. */
const TOPIC = '<img src=x onerror="window.__xss = 16; alert(\'topic\')"><script>alert(1)</script>';

/** A poll's question is a message's text; each option is one line of at most 100 characters. */
const POLL_QUESTION = '<img src=x onerror="window.__xss = 17; alert(\'poll\')"> Which one?';
const POLL_OPTIONS = [
  '<script>window.__xss = 18</script>',
  '<img src=x onerror="window.__xss = 19">',
  '"><svg onload="window.__xss = 20">',
  "' onmouseover='window.__xss = 21' x='",
];

/** Reactions are 1–10 characters without spaces; the picker never offers these, so they go out as raw frames. */
const EMOJI = ['<b>x</b>', '<script>', '"><i>', '&lt;b&gt;', "'onx='1'"];

/** Series names are 1–32 characters of one line (PROTOCOL.md §6.22). */
const SERIES = ['<img src=x onerror=alert(1)>', '"><svg onload=window.__xss=22>', '<script>window.__xss=23</script>'];

/** An announcement is a message's text, also shown in the pinned bar. */
const ANNOUNCEMENT = '<img src=x onerror="window.__xss = 24; alert(\'announce\')"> Read <b>this</b>';

/**
 * Hostile Markdown, each with the text it must show: links only to http(s), with their own text; everything else as
 * typed. None may make an element other than `strong`, `em`, `code` and a safe `a`.
 */
const MARKDOWN = [
  ['[click](javascript:window.__xss=30;alert(1))', '[click](javascript:window.__xss=30;alert(1))'],
  ['[click](JaVaScRiPt:window.__xss=31)', '[click](JaVaScRiPt:window.__xss=31)'],
  ['[x](data:text/html;base64,PHNjcmlwdD5wYXJlbnQuX194c3M9MzI8L3NjcmlwdD4=)', '[x](data:text/html;base64,PHNjcmlwdD5wYXJlbnQuX194c3M9MzI8L3NjcmlwdD4=)'],
  ['[x](  javascript:alert(1))', '[x](  javascript:alert(1))'],
  ['**<img src=x onerror="window.__xss = 33">** *<script>window.__xss=34</script>* `<svg onload=window.__xss=35>`',
    '<img src=x onerror="window.__xss = 33"> <script>window.__xss=34</script> <svg onload=window.__xss=35>'],
  ['_<b>x</b>_ **[<img src=x onerror=alert(1)>](https://example.org/)**', '<b>x</b> <img src=x onerror=alert(1)>'],
  ['https://example.org/"><img src=x onerror="window.__xss=36">', 'https://example.org/"><img src=x onerror="window.__xss=36">'],
  ["[q](https://example.org/'onmouseover='window.__xss=37')", 'q'],
  ['[a](https://example.org/<script>alert(1)</script>)', 'a'],
  ['**[nested *<iframe src=javascript:alert(1)>*](mailto:x@example.org)**', 'nested <iframe src=javascript:alert(1)>'],
];

/** A search query is words to the server; on the page it is only ever text. */
const QUERY = '<img src=x onerror=alert(1)>';

/** Elements a payload would have to create to run or to change the page. */
const TAGS = ['script', 'img', 'svg', 'iframe', 'object', 'embed', 'a', 'style', 'link', 'math', 'details', 'base', 'form', 'b'];

/**
 * How many of each there are, leaving out what the UI itself draws: the icons in each message's actions toolbar,
 * and the live chart's own SVG.
 */
/**
 * On bob's and eve's pages: no payload ran, no CSP violation, no dialog and no script error; with `console`, no CSP
 * refusal in the console either.
 */
async function assertNothingRan({ console = false } = {}) {
  for (const [who, { page, seen }] of [['bob', bob], ['eve', eve]]) {
    const state = await page.evaluate(() => ({ xss: window.__xss, csp: window.__csp }));
    assert.equal(state.xss, 0, `${who}: no payload ran`);
    assert.deepEqual(state.csp, [], `${who}: no CSP violation`);
    assert.deepEqual(seen.dialogs, [], `${who}: no dialog`);
    assert.deepEqual(seen.errors, [], `${who}: no script error`);
    if (console) {
      assert.deepEqual(seen.console.filter((m) => /Content Security Policy|Refused/i.test(m)), [], `${who}: console`);
    }
  }
}

const countTags = (page) =>
  page.evaluate(
    (tags) =>
      Object.fromEntries(
        tags.map((t) => [
          t,
          [...document.getElementsByTagName(t)].filter((n) => !n.closest('#messages li.message > .actions, #live-chart-plot > svg.chart')).length,
        ]),
      ),
    TAGS,
  );

let server;
let browser;
let eve;
let bob;

before(async () => {
  server = await new Server().start();
  browser = await launchBrowser();
  eve = await openClient(browser, server);
  bob = await openClient(browser, server);
});

after(async () => {
  if (browser) await browser.close();
  if (server) await server.close();
});

test('the page is under a CSP that stops inline script', async () => {
  const { page } = bob;
  const blocked = await page.evaluate(async () => {
    const script = document.createElement('script');
    script.textContent = 'window.__inline = 1';
    document.body.append(script);
    const handler = document.createElement('div');
    handler.setAttribute('onclick', 'window.__inline = 2');
    document.body.append(handler);
    handler.click();
    await new Promise((r) => setTimeout(r, 0));
    const ran = window.__inline;
    script.remove();
    handler.remove();
    const reports = window.__csp.splice(0);
    return { ran: ran === undefined ? null : ran, reports };
  });
  assert.equal(blocked.ran, null, 'inline script must not run');
  assert.ok(blocked.reports.some((r) => r.startsWith('script-src')), `CSP reports: ${blocked.reports}`);
  assert.ok(bob.seen.console.some((m) => /Content Security Policy/.test(m)), 'the browser logged the refusal');
  bob.seen.console.length = 0; // Those were this probe's; the corpus test below expects none.
});

test('a hostile nickname is refused before it reaches the server', async () => {
  const { page } = eve;
  const before = await countTags(page);
  await page.fill('#nick', '<img src=x onerror=alert(1)>');
  await page.click('#connect-btn');
  await page.waitForSelector('#connect-error:not([hidden])');
  assert.match(await page.textContent('#connect-error'), /letters, digits/);
  assert.deepEqual(await countTags(page), before);
  assert.equal(await page.isVisible('#chat-screen'), false);
});

test('hostile messages and topics render as inert text', async () => {
  await signIn(eve.page, 'eve');
  await signIn(bob.page, 'bob');
  const before = await countTags(bob.page);

  for (const text of CORPUS) await say(eve.page, text);
  await say(eve.page, BIDI);
  await eve.page.waitForSelector('#messages li.message.pending .dismiss-btn'); // The server refused the bidi text.
  await eve.page.click('#room-topic');
  await eve.page.fill('#topic-input', TOPIC);
  await eve.page.press('#topic-input', 'Enter');
  await say(eve.page, 'end of corpus');
  await waitForMessage(bob.page, 'end of corpus');
  await bob.page.waitForFunction((topic) => document.querySelector('#room-topic').textContent === topic, TOPIC);

  const shown = await bob.page.evaluate(() => [...document.querySelectorAll('#messages li.message .text')].map((n) => n.textContent));
  for (const text of CORPUS) assert.ok(shown.includes(text), `shown verbatim: ${text.slice(0, 60)}`);
  assert.ok(!shown.some((t) => t.includes('gnp.exe')), 'refused text is not shown to others');
  const notices = await bob.page.evaluate(() => [...document.querySelectorAll('#messages li.notice')].map((n) => n.textContent));
  assert.ok(notices.some((n) => n.includes(TOPIC)), 'the topic change is told as text');

  assert.deepEqual(await countTags(bob.page), before, 'no element injected');
  await assertNothingRan({ console: true });
  await screenshot(bob.page, 'xss.png');
});

/** In the page: the acknowledged message whose text is exactly `text`. */
const findRow = (page, text) =>
  page.waitForFunction(
    (wanted) =>
      [...document.querySelectorAll('#messages li.message:not(.pending)')].find((n) => n.querySelector('.text').textContent === wanted),
    text,
    { timeout: 30000 },
  );

test('hostile polls, poll options, reactions and quotes render as inert text', async () => {
  const before = await countTags(bob.page);
  await eve.page.click('#poll-btn');
  await eve.page.fill('#poll-question', POLL_QUESTION);
  await eve.page.click('#poll-add-option-btn');
  const inputs = eve.page.locator('#poll-options .poll-option-input');
  for (let i = 0; i < POLL_OPTIONS.length; i++) await inputs.nth(i).fill(POLL_OPTIONS[i]);
  await eve.page.click('#poll-submit-btn');

  const poll = await findRow(bob.page, POLL_QUESTION);
  await poll.asElement().waitForSelector('.poll');
  await (await poll.asElement().$('.poll-option[data-index="0"]')).click();
  await findRow(eve.page, POLL_QUESTION);
  const seq = Number(await poll.asElement().getAttribute('data-seq'));
  const answers = await rawFrames(eve.page, 'mallory', [
    { type: 'join', room: 'lobby' },
    ...EMOJI.map((emoji) => ({ type: 'react', room: 'lobby', seq, emoji, on: true })),
  ]);
  assert.deepEqual(answers.filter((e) => e.type === 'error'), [], 'the server took every reaction');
  await bob.page.waitForFunction(
    ([s, n]) => document.querySelectorAll(`#messages li.message[data-seq="${s}"] button.reaction`).length === n,
    [seq, EMOJI.length],
  );

  // Bob answers the poll: its hostile question becomes a quote on both pages.
  const li = bob.page.locator(`#messages li.message[data-seq="${seq}"]`);
  await li.hover();
  await li.locator('.reply-btn').click();
  await say(bob.page, 'answering that');
  await waitForMessage(eve.page, 'answering that');

  for (const { page } of [bob, eve]) {
    const shown = await page.evaluate((s) => {
      const row = document.querySelector(`#messages li.message[data-seq="${s}"]`);
      const reply = [...document.querySelectorAll('#messages li.message')].find((n) => n.querySelector('.text').textContent === 'answering that');
      return {
        question: row.querySelector('.text').textContent,
        options: [...row.querySelectorAll('.poll-label')].map((n) => n.textContent),
        voters: row.querySelector('.poll-voters').textContent,
        emoji: [...row.querySelectorAll('button.reaction')].map((b) => [b.dataset.emoji, b.querySelector('.reaction-emoji').textContent]),
        quote: reply && reply.querySelector('.quote-text').textContent,
      };
    }, seq);
    assert.deepEqual(shown, {
      question: POLL_QUESTION,
      options: POLL_OPTIONS,
      voters: 'bob',
      emoji: EMOJI.map((e) => [e, e]),
      quote: POLL_QUESTION,
    });
  }
  assert.deepEqual(await countTags(bob.page), before, 'no element injected');
  await assertNothingRan();
  await screenshot(bob.page, 'xss-poll.png');
});

test('hostile live data series names and a hostile pinned announcement render as inert text', async () => {
  const before = await countTags(bob.page);
  const published = await rawFrames(eve.page, 'mallory', [
    { type: 'join', room: 'lobby' },
    { type: 'publish', room: 'lobby', points: Object.fromEntries(SERIES.map((name, i) => [name, i - 0.5])) },
    { type: 'publish', room: 'lobby', points: Object.fromEntries(SERIES.map((name, i) => [name, i * 2])) },
    // The moderator's token from the server's data directory: announcements and pins are moderators' only.
    { type: 'moderate', token: server.moderatorToken() },
    { type: 'send', room: 'lobby', text: ANNOUNCEMENT, client_id: 'hostile-announcement', announce: true },
  ]);
  assert.deepEqual(published.filter((e) => e.type === 'error'), [], 'the server took the points and the announcement');
  const { seq } = published.find((e) => e.type === 'ack' && e.client_id === 'hostile-announcement');
  const pinned = await rawFrames(eve.page, 'mallory', [{ type: 'moderate', token: server.moderatorToken() }, { type: 'pin', room: 'lobby', seq }]);
  assert.deepEqual(pinned.filter((e) => e.type === 'error'), []);

  for (const { page } of [bob, eve]) {
    await page.waitForFunction((n) => document.querySelectorAll('#live-chart .series-legend [data-series]').length === n, SERIES.length);
    await page.waitForFunction((t) => document.querySelector('#pinned-text').textContent === t, ANNOUNCEMENT);
    await findRow(page, ANNOUNCEMENT);
    const shown = await page.evaluate((s) => ({
      legend: [...document.querySelectorAll('#live-chart .series-legend [data-series]')].map((n) => [
        n.dataset.series, n.querySelector('.series-name').textContent, n.querySelector('.series-value').textContent,
      ]),
      lines: [...document.querySelectorAll('#live-chart svg.chart path.series-line')].map((p) => p.dataset.series),
      chartElements: [...document.querySelectorAll('#live-chart svg.chart *')].map((n) => n.localName).filter((n) => !['g', 'line', 'text', 'path', 'circle'].includes(n)),
      announcement: document.querySelector(`#messages li.message.announcement[data-seq="${s}"] .text`).textContent,
      from: document.querySelector('#live-chart-from').textContent,
    }), seq);
    // The server may reorder a `points` object's keys (a JSON object has no order): compare sorted.
    shown.legend.sort();
    shown.lines.sort();
    assert.deepEqual(shown, {
      legend: SERIES.map((name, i) => [name, name, String(i * 2)]).sort(),
      lines: [...SERIES].sort(),
      chartElements: [],
      announcement: ANNOUNCEMENT,
      from: 'from mallory',
    });
  }
  assert.deepEqual(await countTags(bob.page), before, 'no element injected');
  await assertNothingRan();
  await screenshot(bob.page, 'xss-live.png');
});

test('hostile Markdown renders inert: no script, no javascript: or data: link, only the formatting\'s own elements', async () => {
  const before = await countTags(bob.page);
  for (const [text] of MARKDOWN) await say(eve.page, text);
  await say(eve.page, 'end of markdown');
  await waitForMessage(bob.page, 'end of markdown');

  for (const { page } of [bob, eve]) {
    const shown = await page.evaluate((texts) => {
      const rows = [...document.querySelectorAll('#messages li.message:not(.pending) .text')];
      return rows.slice(-texts.length - 1, -1).map((n) => ({
        text: n.textContent,
        elements: [...n.querySelectorAll('*')].map((e) => e.localName).filter((t) => !['strong', 'em', 'code', 'a', 'span'].includes(t)),
        links: [...n.querySelectorAll('a')].map((a) => ({ href: a.getAttribute('href'), target: a.target, rel: a.rel, attrs: a.getAttributeNames().sort() })),
      }));
    }, MARKDOWN.map(([t]) => t));
    assert.deepEqual(shown.map((r) => r.text), MARKDOWN.map(([, plain]) => plain));
    for (const row of shown) {
      assert.deepEqual(row.elements, [], `only formatting elements: ${row.text.slice(0, 50)}`);
      for (const link of row.links) {
        assert.match(link.href, /^(https:\/\/example\.org\/|mailto:)/, link.href);
        assert.ok(!/["<> ]/.test(link.href), `the address is encoded: ${link.href}`);
        assert.deepEqual([link.target, link.rel], ['_blank', 'noopener noreferrer']);
        assert.deepEqual(link.attrs, ['class', 'href', 'rel', 'target', 'title']);
      }
    }
    assert.deepEqual(shown.map((r) => r.links.length), [0, 0, 0, 0, 0, 1, 1, 1, 1, 1]);
    const hrefs = await page.evaluate(() => [...document.querySelectorAll('a[href]')].map((a) => a.getAttribute('href')));
    assert.ok(!hrefs.some((h) => /^\s*(javascript|data|vbscript):/i.test(h)), `no script link on the page: ${hrefs}`);
  }
  // The links are all there is beyond what was there: no image, script, frame, SVG or bold element was made.
  const after = await countTags(bob.page);
  assert.deepEqual({ ...after, a: 0 }, { ...before, a: 0 });
  assert.equal(after.a - before.a, 5);

  // Clicking the inert text and the links' neighbours runs nothing.
  await bob.page.locator('#messages li.message .text', { hasText: '[click](javascript:window.__xss=30' }).click();
  await assertNothingRan();
  await screenshot(bob.page, 'xss-markdown.png');
});

test('a hostile search query and its results stay text', async () => {
  const before = await countTags(bob.page);
  await bob.page.fill('#search-input', QUERY);
  // The corpus holds this very text; the index catches up a moment after the messages were stored.
  for (let tries = 0; ; tries++) {
    await bob.page.press('#search-input', 'Enter');
    const found = await bob.page
      .waitForFunction(() => document.querySelectorAll('#search-results li.search-hit').length > 0, null, { timeout: 1500 })
      .then(() => true, () => false);
    if (found) break;
    assert.ok(tries < 10, 'the search found the corpus message');
  }
  const panel = await bob.page.evaluate(() => ({
    elements: [...document.querySelectorAll('#search-results *')].map((e) => e.localName).filter((t) => !['li', 'button', 'span', 'time', 'mark'].includes(t)),
    marks: [...new Set([...document.querySelectorAll('#search-results mark')].map((m) => m.textContent))].sort(),
    texts: [...document.querySelectorAll('#search-results .search-text')].map((n) => n.textContent),
  }));
  assert.deepEqual(panel.elements, [], 'nothing but the panel\'s own elements');
  assert.deepEqual(panel.marks, ['1', 'alert', 'img', 'onerror', 'src', 'x']);
  const sent = new Set([...CORPUS, ...MARKDOWN.map(([text]) => text)]);
  assert.ok(panel.texts.every((t) => sent.has(t)), 'results shown exactly as typed');
  assert.ok(panel.texts.includes(CORPUS[CORPUS.length - 1]), 'the corpus message with this very text is found');
  assert.equal(await bob.page.inputValue('#search-input'), QUERY);

  // Operators, quotes and an overlong query: words, or a refusal said in the panel.
  for (const query of ['" OR NEAR( * ) -', `"${'<script>'.repeat(30)}`]) {
    await bob.page.fill('#search-input', query);
    await bob.page.press('#search-input', 'Enter');
    await bob.page.waitForFunction(() => /Type a word|at most 200|No messages match/.test(document.querySelector('#search-status').textContent));
  }
  await bob.page.press('#search-input', 'Escape');
  await bob.page.waitForSelector('#search-panel', { state: 'hidden' });
  assert.deepEqual(await countTags(bob.page), before, 'no element injected');
  const state = await bob.page.evaluate(() => ({ xss: window.__xss, csp: window.__csp }));
  assert.deepEqual(state, { xss: 0, csp: [] });
  assert.deepEqual(bob.seen.errors, []);
});
