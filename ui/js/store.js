// What the UI remembers between runs, in localStorage: notification preferences, per server and nickname the
// conversations that were open and the newest message seen in each (for unread counts after a restart), and on this
// device the saved snippets (the teacher's reusable messages, bounded).
//
// Nothing secret is stored here; passwords live in the OS keyring, handled by the app.

const PREFS = 'parlor.notify';
const SNIPPETS = 'parlor.snippets';

/** At most this many snippets are kept, each at most this many characters (a message's own limit). */
export const MAX_SNIPPETS = 50;
export const MAX_SNIPPET_CHARS = 4000;

function read(key, fallback) {
  try {
    const raw = localStorage.getItem(key);
    return raw ? JSON.parse(raw) : fallback;
  } catch {
    return fallback;
  }
}

function write(key, value) {
  try {
    localStorage.setItem(key, JSON.stringify(value));
  } catch {
    // Storage full or disabled: the UI still works, it just forgets.
  }
}

/** `host:port` and `ws://host:port/ws` name the same server; fold them into one key. */
export function serverKey(url, nick) {
  let u = String(url || '').trim().toLowerCase();
  if (!/^wss?:\/\//.test(u)) u = `ws://${u}`;
  u = u.replace(/\/ws\/?$/, '').replace(/\/+$/, '');
  return `${u}|${String(nick || '').toLowerCase()}`;
}

/** `{ dnd, muted: [room] }`. */
export function loadPrefs() {
  const p = read(PREFS, {});
  return { dnd: Boolean(p.dnd), muted: Array.isArray(p.muted) ? p.muted.filter((r) => typeof r === 'string') : [] };
}

export function savePrefs(prefs) {
  write(PREFS, { dnd: Boolean(prefs.dnd), muted: [...prefs.muted] });
}

/** `{ rooms: [key], active, names: { '@bob': 'Bob' } }` for a server and nickname. */
export function loadOpen(url, nick) {
  const v = read(`parlor.open.${serverKey(url, nick)}`, {});
  const names = {};
  if (v.names && typeof v.names === 'object') {
    for (const [k, n] of Object.entries(v.names)) if (typeof n === 'string') names[k] = n;
  }
  return {
    rooms: Array.isArray(v.rooms) ? v.rooms.filter((r) => typeof r === 'string') : [],
    active: typeof v.active === 'string' ? v.active : null,
    names,
  };
}

export function saveOpen(url, nick, value) {
  write(`parlor.open.${serverKey(url, nick)}`, value);
}

/** Highest seq seen per conversation. */
export function loadSeen(url, nick) {
  const v = read(`parlor.seen.${serverKey(url, nick)}`, {});
  return v && typeof v === 'object' ? v : {};
}

export function saveSeen(url, nick, seen) {
  write(`parlor.seen.${serverKey(url, nick)}`, seen);
}

/** Drops what the UI remembers for a profile the user forgot. */
export function forget(url, nick) {
  try {
    localStorage.removeItem(`parlor.open.${serverKey(url, nick)}`);
    localStorage.removeItem(`parlor.seen.${serverKey(url, nick)}`);
  } catch {
    // Nothing to do.
  }
}

/**
 * The saved snippets, newest first: strings, at most MAX_SNIPPETS of at most MAX_SNIPPET_CHARS characters. Whatever
 * else is found (edited by hand, written by an older version) is dropped rather than trusted.
 */
export function loadSnippets() {
  const v = read(SNIPPETS, []);
  return boundSnippets(Array.isArray(v) ? v : []);
}

/** Keeps `list` (bounded the same way); returns what was kept. */
export function saveSnippets(list) {
  const kept = boundSnippets(list);
  write(SNIPPETS, kept);
  return kept;
}

function boundSnippets(list) {
  return list
    .filter((t) => typeof t === 'string' && t.trim() && [...t].length <= MAX_SNIPPET_CHARS)
    .slice(0, MAX_SNIPPETS);
}
