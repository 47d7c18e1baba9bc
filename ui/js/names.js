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
let cached = { nick: null, re: null };

/** Whether `text` mentions `@nick` (case-insensitive, not inside a longer name). */
export function mentions(text, nick) {
  if (!nick || !text) return false;
  if (cached.nick !== nick) {
    const escaped = nick.replace(/[\\^$.*+?()[\]{}|/]/g, '\\$&'); // Only syntax characters: 'u' mode rejects others.
    // No lookbehind (older WebKit lacks it): '@' starts the text or follows a character that is not part of a name.
    cached = { nick, re: new RegExp(`(?:^|[^\\p{L}\\p{N}_.-])@${escaped}(?![\\p{L}\\p{N}_-])`, 'iu') };
  }
  return cached.re.test(text);
}
