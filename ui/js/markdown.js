// The small Markdown subset messages may use, read into a tree the view turns into DOM nodes (view/rich-text.js):
// **bold**, *italic* or _italic_, `code`, [text](url) and bare http(s):// URLs. Pure: no DOM, and no HTML anywhere —
// the tree holds only strings, which the view puts in with `textContent`, so there is nothing to sanitise.
//
// Only `http:`, `https:` and `mailto:` links are links; any other scheme (`javascript:`, `data:`, `file:`, …) and
// any relative address (it would resolve against the app's own page) leave the whole `[text](url)` as plain text.
//
// Deliberate differences from CommonMark, for a classroom chat: `*` and `_` only open at the start of a word and
// only close at its end, so `2*3*4` and `snake_case_name` stay as typed; a run of three or more markers, or of two
// underscores, is plain text; nesting stops at MAX_DEPTH. Anything not closed stays as typed.

/** Tree nodes: `{ type: 'text', text }`, `{ type: 'strong' | 'em', children }`, `{ type: 'code', text }`,
 * `{ type: 'link', href, children }` (`href` already checked and normalised by `safeHref`). */

/** Schemes a link may have. */
export const LINK_SCHEMES = Object.freeze(['http:', 'https:', 'mailto:']);

/** Deeper emphasis than this is left as typed: nobody writes it, and it bounds the recursion. */
export const MAX_DEPTH = 5;

/** Characters a backslash makes literal. */
const ESCAPABLE = new Set(['\\', '`', '*', '_', '[', ']', '(', ')']);

/** Trailing characters that end a sentence rather than a bare URL ("see https://example.org."). */
const TRAILING = new Set(['.', ',', ':', ';', '!', '?', "'", '"', '*', '_', '~']);

const WORD = /[\p{L}\p{N}]/u;
const SPACE = /\s/u;

const isWord = (ch) => ch !== undefined && WORD.test(ch);
const isSpace = (ch) => ch === undefined || SPACE.test(ch);

/**
 * The address a link may point to, normalised, or null. Only absolute `http:`/`https:` (with a host) and `mailto:`
 * addresses pass; whitespace or control characters anywhere refuse it (browsers drop tabs and newlines inside URLs,
 * which is how `java\tscript:` sneaks past naive checks).
 */
export function safeHref(raw) {
  if (typeof raw !== 'string' || !raw || raw.length > 2048) return null;
  // eslint-disable-next-line no-control-regex
  if (/[\s\u0000-\u001f\u007f]/u.test(raw)) return null;
  const scheme = /^([A-Za-z][A-Za-z0-9+.-]*):/.exec(raw);
  if (!scheme || !LINK_SCHEMES.includes(`${scheme[1].toLowerCase()}:`)) return null;
  let url;
  try {
    url = new URL(raw);
  } catch {
    return null;
  }
  if (!LINK_SCHEMES.includes(url.protocol)) return null;
  if (url.protocol !== 'mailto:' && !url.hostname) return null;
  return url.href;
}

/** How many `ch` follow from `i` (before `end`). */
function runLength(s, i, end, ch) {
  let j = i;
  while (j < end && s[j] === ch) j++;
  return j - i;
}

/** A backslash escape, a code span (or a lone backtick run), a link, or a bare URL starting at `i`; else null. */
function readAtom(s, i, end, links) {
  const ch = s[i];
  if (ch === '\\' && i + 1 < end && ESCAPABLE.has(s[i + 1])) {
    return { node: { type: 'text', text: s[i + 1] }, end: i + 2 };
  }
  if (ch === '`') return readCode(s, i, end);
  if (ch === '[' && links) return readLink(s, i, end);
  if ((ch === 'h' || ch === 'H') && links) return readBareUrl(s, i, end);
  return null;
}

/** `` `code` ``: closed by a run of exactly as many backticks; unclosed, the run is plain text. */
function readCode(s, i, end) {
  const n = runLength(s, i, end, '`');
  let j = i + n;
  while (j < end) {
    if (s[j] === '`') {
      const m = runLength(s, j, end, '`');
      if (m === n) {
        let text = s.slice(i + n, j);
        // `` ` code ` `` lets a span start or end with a backtick; one space each side is padding.
        if (text.length >= 2 && text.startsWith(' ') && text.endsWith(' ') && text.trim()) text = text.slice(1, -1);
        if (!text) break;
        return { node: { type: 'code', text }, end: j + m };
      }
      j += m;
    } else {
      j++;
    }
  }
  return { node: { type: 'text', text: s.slice(i, i + n) }, end: i + n };
}

/**
 * `[text](url)`: the text may hold emphasis and code (not links), the url no whitespace (parentheses balanced). A
 * url that is not safe keeps the whole thing as typed, unparsed, so `[click](javascript:…)` reads as what it is.
 */
function readLink(s, i, end) {
  let depth = 0;
  let k = i + 1;
  for (; k < end; k++) {
    const ch = s[k];
    if (ch === '\\') k++;
    else if (ch === '[') depth++;
    else if (ch === ']') {
      if (depth === 0) break;
      depth--;
    }
  }
  if (k >= end || k === i + 1 || s[k + 1] !== '(') return null;
  let parens = 0;
  let close = -1;
  for (let j = k + 2; j < end; j++) {
    const ch = s[j];
    if (SPACE.test(ch)) return null;
    if (ch === '(') parens++;
    else if (ch === ')') {
      if (parens === 0) {
        close = j;
        break;
      }
      parens--;
    }
  }
  if (close < 0) return null;
  const href = safeHref(s.slice(k + 2, close));
  if (!href) return { node: { type: 'text', text: s.slice(i, close + 1) }, end: close + 1 };
  return { node: { type: 'link', href, children: inline(s, i + 1, k, 1, false) }, end: close + 1 };
}

/**
 * `http://…` or `https://…` at the start of a word, up to whitespace or a character that cannot be part of a URL
 * written in text (`<`, `>`, `"`, `` ` ``), without the sentence's trailing punctuation or an unbalanced `)`/`]`.
 */
function readBareUrl(s, i, end) {
  const head = s.slice(i, i + 8).toLowerCase();
  if (!head.startsWith('http://') && !head.startsWith('https://')) return null;
  if (isWord(s[i - 1])) return null;
  let j = i;
  while (j < end && !SPACE.test(s[j]) && !'<>"`'.includes(s[j])) j++;
  let url = s.slice(i, j);
  for (;;) {
    const last = url[url.length - 1];
    if (TRAILING.has(last)) url = url.slice(0, -1);
    else if (last === ')' && count(url, ')') > count(url, '(')) url = url.slice(0, -1);
    else if (last === ']' && count(url, ']') > count(url, '[')) url = url.slice(0, -1);
    else break;
  }
  const href = safeHref(url);
  // No host ("http://."): what is left is plain text, so no marker inside it is read either.
  if (!href) return { node: { type: 'text', text: url }, end: i + url.length };
  return { node: { type: 'link', href, children: [{ type: 'text', text: url }] }, end: i + url.length };
}

function count(s, ch) {
  let n = 0;
  for (const c of s) if (c === ch) n++;
  return n;
}

/** An emphasis marker run at `i` may open: followed by a non-space, and not inside a word. */
function canOpen(s, i, run, end) {
  return i + run < end && !isSpace(s[i + run]) && !isWord(s[i - 1]);
}

/** Where the run of exactly `run` × `ch` closing an emphasis that opened before `from` is, or -1. */
function findCloser(s, from, end, ch, run, links) {
  let j = from;
  while (j < end) {
    const atom = readAtom(s, j, end, links);
    if (atom) {
      j = atom.end;
      continue;
    }
    if (s[j] === ch) {
      const m = runLength(s, j, end, ch);
      // The content is not empty, the marker follows a non-space and does not run on into a word.
      if (m === run && j > from && !isSpace(s[j - 1]) && !isWord(s[j + m])) return j;
      j += m;
    } else {
      j++;
    }
  }
  return -1;
}

/** Parses `s[start, end)` into nodes. `links`: links may start here (not inside a link's own text). */
function inline(s, start, end, depth, links) {
  const out = [];
  let buf = '';
  const flush = () => {
    if (buf) out.push({ type: 'text', text: buf });
    buf = '';
  };
  // A marker kind with no closer after some point has none after any later point either: do not search again
  // (keeps a line of a thousand lone `*` linear).
  const hopeless = new Set();
  let i = start;
  while (i < end) {
    const atom = readAtom(s, i, end, links);
    if (atom) {
      if (atom.node.type === 'text') buf += atom.node.text;
      else {
        flush();
        out.push(atom.node);
      }
      i = atom.end;
      continue;
    }
    const ch = s[i];
    if (ch === '*' || ch === '_') {
      const run = runLength(s, i, end, ch);
      const kind = ch.repeat(run);
      if ((run === 1 || (run === 2 && ch === '*')) && depth < MAX_DEPTH && !hopeless.has(kind) && canOpen(s, i, run, end)) {
        const close = findCloser(s, i + run, end, ch, run, links);
        if (close >= 0) {
          flush();
          out.push({ type: run === 2 ? 'strong' : 'em', children: inline(s, i + run, close, depth + 1, links) });
          i = close + run;
          continue;
        }
        hopeless.add(kind);
      }
      buf += kind;
      i += run;
      continue;
    }
    buf += ch;
    i++;
  }
  flush();
  return out;
}

/** The tree of a message's text. */
export function parseMarkdown(text) {
  const s = String(text ?? '');
  return inline(s, 0, s.length, 0, true);
}

/** The text a tree shows (markers and link addresses gone), e.g. for tests and previews. */
export function plainText(nodes) {
  let out = '';
  for (const n of nodes) out += n.type === 'text' || n.type === 'code' ? n.text : plainText(n.children);
  return out;
}

/** Whether `text` could hold any formatting at all: the view skips parsing plain text. */
export function mayHaveMarkup(text) {
  return /[*_`[\\]|https?:\/\//i.test(String(text ?? ''));
}
