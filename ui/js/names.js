// Names as the server compares them: room and conversation keys, nicknames, and `@nick` mentions. Pure functions.

/** Lowercase key of a room or `@nick` (the server folds both to lowercase). */
export function roomKey(room) {
  return String(room || '').toLowerCase();
}

/** Whether `room` names a direct conversation (`@nick`). */
export function isDm(room) {
  return String(room || '').startsWith('@');
}

/** Nicknames are compared case-insensitively. */
export function sameNick(a, b) {
  return String(a).toLowerCase() === String(b).toLowerCase();
}

/** The last nickname's mention pattern: the message list asks for every row it draws. */
let cached = { nick: null, re: null, all: null };

function pattern(nick) {
  if (cached.nick !== nick) {
    const escaped = nick.replace(/[\\^$.*+?()[\]{}|/]/g, '\\$&'); // Only syntax characters: 'u' mode rejects others.
    // No lookbehind (older WebKit lacks it): '@' starts the text or follows a character that is not part of a name.
    const source = `(^|[^\\p{L}\\p{N}_.-])(@${escaped})(?![\\p{L}\\p{N}_-])`;
    cached = { nick, re: new RegExp(source, 'iu'), all: new RegExp(source, 'giu') };
  }
  return cached;
}

/** Whether `text` mentions `@nick` (case-insensitive, not inside a longer name). */
export function mentions(text, nick) {
  if (!nick || !text) return false;
  return pattern(nick).re.test(text);
}

/**
 * `text` cut into pieces `{ text, mention }`, where the `@nick` mentions are pieces of their own, so the view can
 * mark them (still as text). One piece when there is no mention.
 */
export function mentionParts(text, nick) {
  if (!mentions(text, nick)) return [{ text, mention: false }];
  const parts = [];
  let at = 0;
  for (const m of text.matchAll(pattern(nick).all)) {
    const start = m.index + m[1].length;
    if (start > at) parts.push({ text: text.slice(at, start), mention: false });
    parts.push({ text: m[2], mention: true });
    at = start + m[2].length;
  }
  if (at < text.length) parts.push({ text: text.slice(at), mention: false });
  return parts;
}
