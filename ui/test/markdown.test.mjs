// The Markdown subset of messages (ui/js/markdown.js): bold, italic, code, links and bare URLs, nesting, markers
// left unclosed, backslash escapes, which addresses may become links (never `javascript:`, `data:` or a relative
// one, whatever their case), where a bare URL ends, and @mentions inside formatted text. The last tests draw the tree
// with view/rich-text.js into a minimal stand-in DOM: links carry target and rel, hostile ones are text.

import { test } from 'node:test';
import assert from 'node:assert/strict';

import { parseMarkdown, plainText, safeHref, mayHaveMarkup, MAX_DEPTH } from '../js/markdown.js';

const t = (text) => ({ type: 'text', text });
const strong = (...children) => ({ type: 'strong', children });
const em = (...children) => ({ type: 'em', children });
const code = (text) => ({ type: 'code', text });
const link = (href, ...children) => ({ type: 'link', href, children });
const parse = parseMarkdown;

test('bold, italic with * or _, code and links', () => {
  assert.deepEqual(parse('**bold**'), [strong(t('bold'))]);
  assert.deepEqual(parse('*italic* and _italic_'), [em(t('italic')), t(' and '), em(t('italic'))]);
  assert.deepEqual(parse('run `npm test` now'), [t('run '), code('npm test'), t(' now')]);
  assert.deepEqual(parse('[the docs](https://example.org/docs)'), [link('https://example.org/docs', t('the docs'))]);
  assert.deepEqual(parse('[mail me](mailto:teacher@example.org)'), [link('mailto:teacher@example.org', t('mail me'))]);
  assert.deepEqual(parse('plain text, nothing else'), [t('plain text, nothing else')]);
  assert.deepEqual(parse(''), []);
});

test('markers nest, and a link’s text may be formatted', () => {
  assert.deepEqual(parse('**bold *and italic* bold**'), [strong(t('bold '), em(t('and italic')), t(' bold'))]);
  assert.deepEqual(parse('*a **b** c*'), [em(t('a '), strong(t('b')), t(' c'))]);
  assert.deepEqual(parse('_x **y**_'), [em(t('x '), strong(t('y')))]);
  assert.deepEqual(parse('**see [this](https://e.org)**'), [strong(t('see '), link('https://e.org/', t('this')))]);
  assert.deepEqual(parse('[**big** `x`](https://e.org)'), [link('https://e.org/', strong(t('big')), t(' '), code('x'))]);
  // No link inside a link's text: the inner one is text.
  assert.deepEqual(plainText(parse('[a [b](https://x.org) c](https://y.org)')), 'a [b](https://x.org) c');
});

test('markers that are not closed stay as typed', () => {
  for (const text of ['**unclosed', '*half', 'a _b', '`code', '``two`', '[text]', '[text](https://e.org', '[](https://e.org)', '** spaced **', '* not a list']) {
    assert.equal(plainText(parse(text)), text, text);
  }
  assert.deepEqual(parse('**a*'), [t('**a*')]);
  assert.deepEqual(parse('*a**'), [t('*a**')]);
  assert.deepEqual(parse('***x***'), [t('***x***')], 'runs of three are text');
});

test('markers inside words and numbers stay as typed', () => {
  for (const text of ['2*3*4 = 24', 'snake_case_name', '__init__', 'window.__xss = 1', 'a*b*c', 'file_v2_final.txt']) {
    assert.deepEqual(parse(text), [t(text)], text);
  }
  assert.deepEqual(parse('(*aside*)'), [t('('), em(t('aside')), t(')')], 'punctuation around is fine');
});

test('a backslash makes a marker literal; elsewhere it is kept', () => {
  assert.deepEqual(parse('\\*not italic\\*'), [t('*not italic*')]);
  assert.deepEqual(parse('\\`not code\\`'), [t('`not code`')]);
  assert.deepEqual(parse('\\\\'), [t('\\')]);
  assert.deepEqual(parse('C:\\Users\\ana'), [t('C:\\Users\\ana')]);
  assert.deepEqual(parse('\\[x](https://e.org)'), [t('[x]('), link('https://e.org/', t('https://e.org')), t(')')]);
});

test('code spans are not parsed further', () => {
  assert.deepEqual(parse('`**x** [a](https://e.org) https://e.org @bob`'), [code('**x** [a](https://e.org) https://e.org @bob')]);
  assert.deepEqual(parse('`` a ` b ``'), [code('a ` b')]);
  assert.deepEqual(parse('**`code` in bold**'), [strong(code('code'), t(' in bold'))]);
  assert.deepEqual(parse('*a `*` b*'), [em(t('a '), code('*'), t(' b'))], 'a marker inside code does not close');
});

test('only http, https and mailto links become links, whatever their case', () => {
  const hostile = [
    '[click](javascript:alert(1))',
    '[click](JaVaScRiPt:alert(1))',
    '[click](data:text/html,<script>alert(1)</script>)',
    '[click](vbscript:msgbox(1))',
    '[click](file:///etc/passwd)',
    '[click](/relative/path)',
    '[click](//evil.example)',
    '[click](#top)',
    '[click](&#106;avascript:alert(1))',
    '[click](java\tscript:alert(1))',
    '[click](javascript://%0Aalert(1))',
  ];
  for (const text of hostile) {
    const tree = parse(text);
    assert.equal(plainText(tree), text, text);
    assert.ok(!JSON.stringify(tree).includes('"link"'), `no link: ${text}`);
  }
  assert.deepEqual(parse('[x](HTTPS://Example.ORG/A)'), [link('https://example.org/A', t('x'))]);
});

test('safeHref refuses what a link must never point to', () => {
  assert.equal(safeHref('https://example.org/a?b=1#c'), 'https://example.org/a?b=1#c');
  assert.equal(safeHref('http://10.0.0.5:8080'), 'http://10.0.0.5:8080/');
  assert.equal(safeHref('mailto:a@b.org'), 'mailto:a@b.org');
  for (const bad of ['javascript:alert(1)', 'JAVASCRIPT:alert(1)', ' javascript:alert(1)', 'java\nscript:alert(1)', 'data:text/html,x',
    'blob:https://e.org/x', 'http://', 'https:', '/x', 'x', '', null, 'https://e.org/\u0000', 'h'.repeat(3000)]) {
    assert.equal(safeHref(bad), null, String(bad));
  }
});

test('bare URLs: where they start and end', () => {
  assert.deepEqual(parse('see https://example.org.'), [t('see '), link('https://example.org/', t('https://example.org')), t('.')]);
  assert.deepEqual(parse('https://e.org/a?q=1, then'), [link('https://e.org/a?q=1', t('https://e.org/a?q=1')), t(', then')]);
  assert.deepEqual(parse('(https://e.org/wiki/A_(b))'), [t('('), link('https://e.org/wiki/A_(b)', t('https://e.org/wiki/A_(b)')), t(')')]);
  assert.deepEqual(parse('"https://e.org/x"!'), [t('"'), link('https://e.org/x', t('https://e.org/x')), t('"!')]);
  assert.deepEqual(parse('<https://e.org>'), [t('<'), link('https://e.org/', t('https://e.org')), t('>')]);
  assert.deepEqual(parse('**https://e.org**'), [strong(link('https://e.org/', t('https://e.org')))]);
  assert.deepEqual(parse('_https://e.org/a_b_'), [em(link('https://e.org/a_b', t('https://e.org/a_b')))]);
  assert.deepEqual(parse('HTTP://E.ORG'), [link('http://e.org/', t('HTTP://E.ORG'))]);
  for (const text of ['xhttps://e.org', 'http://', 'https://.', 'mailto:a@b.org', 'www.example.org', 'ftp://e.org']) {
    assert.ok(!JSON.stringify(parse(text)).includes('"link"'), `no link: ${text}`);
    assert.equal(plainText(parse(text)), text);
  }
});

test('a URL with quotes and angle brackets ends before them', () => {
  const tree = parse('https://e.org/"><img src=x onerror=alert(1)>');
  assert.deepEqual(tree, [link('https://e.org/', t('https://e.org/')), t('"><img src=x onerror=alert(1)>')]);
  const inLink = parse('[x](https://e.org/"onmouseover="alert(1))');
  assert.equal(inLink[0].type, 'link');
  assert.ok(!inLink[0].href.includes('"'), 'the address is percent-encoded');
});

test('HTML is text like any other', () => {
  for (const text of ['<b>bold</b>', '<script>alert(1)</script>', '<img src=x onerror="window.__xss = 2">', '&lt;b&gt;']) {
    assert.deepEqual(parse(text), [t(text)], text);
  }
  assert.deepEqual(parse('**<img src=x onerror=alert(1)>**'), [strong(t('<img src=x onerror=alert(1)>'))]);
});

test('mentions inside bold stay in one text piece the view can mark', () => {
  assert.deepEqual(parse('**@bob look at this**'), [strong(t('@bob look at this'))]);
  assert.deepEqual(parse('hi *@bob*!'), [t('hi '), em(t('@bob')), t('!')]);
});

test('deep nesting stops at MAX_DEPTH, and long lines of markers stay fast', () => {
  const deep = `${'*a _'.repeat(10)}x${'_ a*'.repeat(10)}`;
  let depth = 0;
  for (let nodes = parse(deep); nodes.some((n) => n.children); depth++) nodes = nodes.find((n) => n.children).children;
  assert.ok(depth <= MAX_DEPTH, `depth ${depth}`);
  assert.equal(plainText(parse(deep)).replace(/[*_]/g, '').length, deep.replace(/[*_]/g, '').length, 'no text lost');
  const started = Date.now();
  for (const text of ['*a '.repeat(1300), '_a '.repeat(1300), '**a '.repeat(1000), '`'.repeat(3999), '['.repeat(2000) + '](', 'https://e.org/'.repeat(280)]) {
    assert.equal(plainText(parse(text)).length > 0, true);
  }
  assert.ok(Date.now() - started < 1500, `took ${Date.now() - started} ms`);
});

test('plain text skips the parser', () => {
  assert.equal(mayHaveMarkup('hello there, 2 + 2 = 4'), false);
  for (const text of ['a *b*', 'x_y', '`', '[a]', 'http://e.org', 'C:\\x']) assert.equal(mayHaveMarkup(text), true, text);
});

// --- Drawing: view/rich-text.js with a stand-in DOM -----------------------------------------------------------------

class FakeText {
  constructor(data) {
    this.nodeType = 3;
    this.data = data;
  }
  get textContent() {
    return this.data;
  }
}

class FakeElement {
  constructor(tag) {
    this.nodeType = 1;
    this.localName = tag;
    this.attributes = {};
    this.childNodes = [];
    this.dataset = {};
    this.className = '';
  }
  setAttribute(name, value) {
    this.attributes[name] = String(value);
  }
  getAttribute(name) {
    return name in this.attributes ? this.attributes[name] : null;
  }
  append(...nodes) {
    this.childNodes.push(...nodes);
  }
  replaceChildren(...nodes) {
    this.childNodes = nodes;
  }
  get childElementCount() {
    return this.childNodes.filter((n) => n.nodeType === 1).length;
  }
  get textContent() {
    return this.childNodes.map((n) => n.textContent).join('');
  }
  set textContent(value) {
    this.childNodes = value ? [new FakeText(value)] : [];
  }
  all(tag) {
    const out = [];
    for (const n of this.childNodes) {
      if (n.nodeType !== 1) continue;
      if (n.localName === tag) out.push(n);
      out.push(...n.all(tag));
    }
    return out;
  }
}

globalThis.document = {
  createElement: (tag) => new FakeElement(tag),
  createTextNode: (data) => new FakeText(data),
};
const { renderRichText } = await import('../js/view/rich-text.js');

function draw(text, me = 'bob', mention = false) {
  const node = new FakeElement('span');
  renderRichText(node, text, { me, mention });
  return node;
}

test('links are drawn with target _blank and rel noopener noreferrer; hostile ones stay text', () => {
  const node = draw('**read** [the notes](https://example.org/notes) or https://e.org. [click](javascript:alert(1))');
  const links = node.all('a');
  assert.deepEqual(links.map((a) => [a.attributes.href, a.attributes.target, a.attributes.rel, a.textContent]), [
    ['https://example.org/notes', '_blank', 'noopener noreferrer', 'the notes'],
    ['https://e.org/', '_blank', 'noopener noreferrer', 'https://e.org'],
  ]);
  assert.equal(node.all('strong')[0].textContent, 'read');
  assert.ok(node.textContent.endsWith('[click](javascript:alert(1))'));
});

test('mentions are marked inside formatted text, not inside code', () => {
  const node = draw('**@bob look** and *see @Bob* but `@bob`', 'bob', true);
  const marked = node.all('span').filter((s) => s.className === 'mention-name');
  assert.deepEqual(marked.map((s) => s.textContent), ['@bob', '@Bob']);
  assert.equal(node.all('strong')[0].all('span')[0].className, 'mention-name');
  assert.equal(node.all('code')[0].textContent, '@bob');
  assert.equal(node.textContent, '@bob look and see @Bob but @bob');
});

test('plain text without a mention is one text node', () => {
  const node = draw('just words');
  assert.equal(node.childNodes.length, 1);
  assert.equal(node.childNodes[0].nodeType, 3);
  assert.equal(node.textContent, 'just words');
});
