// Searching the conversation on screen (PROTOCOL.md §6.25 `search`, §7.25 `search_results`): what was asked, the
// results so far (newest first, paged with `before`), and how the words found are marked in a result. Pure: the
// functions change `state.search` and return effects (`{ type: 'search', room, query, before }`) like state.js.

import { roomKey } from './names.js';

/** The server's limit on a query (PROTOCOL.md §6.25). */
export const MAX_QUERY_CHARS = 200;

/** Most results kept: "Load more" stops there (a classroom's search never needs more to be useful). */
export const MAX_RESULTS = 500;

/** What the panel shows when nothing is being searched. */
export function newSearch() {
  return { room: null, query: '', pending: false, results: [], hasMore: false, error: '', done: false };
}

/** Starts searching `room` for `query` (an empty query just clears the panel). */
export function startSearch(state, room, query) {
  const q = String(query ?? '');
  const key = roomKey(room);
  if (!key || !q.trim()) {
    state.search = newSearch();
    return [];
  }
  state.search = { ...newSearch(), room: key, query: q };
  if ([...q].length > MAX_QUERY_CHARS) {
    state.search.error = `A search is at most ${MAX_QUERY_CHARS} characters: shorten it.`;
    return [];
  }
  state.search.pending = true;
  return [{ type: 'search', room: key, query: q, before: null }];
}

/** Asks for the next (older) page of results, when there is one and no request is out. */
export function moreResults(state) {
  const s = state.search;
  if (!s.room || s.pending || !s.hasMore || !s.results.length || s.results.length >= MAX_RESULTS) return [];
  s.pending = true;
  return [{ type: 'search', room: s.room, query: s.query, before: s.results[s.results.length - 1].seq }];
}

/** Whether `ev` answers the search on screen (a reply to an older query, typed over since, is dropped). */
function current(state, ev) {
  const s = state.search;
  return Boolean(s.room) && roomKey(ev.room) === s.room && ev.query === s.query;
}

/** A `search_results` event. */
export function onSearchResults(state, ev) {
  if (!current(state, ev)) return false;
  const s = state.search;
  const held = new Set(s.results.map((m) => m.seq));
  for (const m of Array.isArray(ev.messages) ? ev.messages : []) {
    if (!m || !Number.isSafeInteger(m.seq) || held.has(m.seq) || m.deleted === true) continue;
    held.add(m.seq);
    s.results.push({ seq: m.seq, from: String(m.from ?? ''), text: String(m.text ?? ''), ts: Number(m.ts) || 0 });
  }
  s.hasMore = ev.has_more === true && s.results.length < MAX_RESULTS;
  s.pending = false;
  s.done = true;
  s.error = '';
  return true;
}

/** Error codes a search request gets (PROTOCOL.md §6.25); only `invalid_query` never answers anything else. */
const SEARCH_ERRORS = new Set(['invalid_query', 'storage_failed', 'no_such_room', 'invalid_room']);

/**
 * A server `error`: when it answers the search in flight, the panel says so and true is returned (no notice in the
 * conversation). `invalid_query` only ever answers a search; the other codes also answer `history`, so while a page
 * of the room is awaited (`historyWaiting`) they are left to it.
 */
export function onSearchError(state, ev, { historyWaiting = false } = {}) {
  const s = state.search;
  const ours = s.pending && !historyWaiting && SEARCH_ERRORS.has(ev.code) && roomKey(ev.room) === s.room;
  if (ev.code !== 'invalid_query' && !ours) return false;
  if (!s.room) return true;
  s.pending = false;
  s.done = true;
  s.error = ev.code === 'invalid_query'
    ? 'Type a word to search for (letters or digits), at most 200 characters.'
    : String(ev.message || 'The search did not work; try again.');
  return true;
}

/** The bridge refused the request (e.g. not connected). */
export function searchFailed(state, message) {
  const s = state.search;
  s.pending = false;
  s.done = true;
  s.error = String(message || 'The search did not work; try again.');
}

/** What the panel's status line says. */
export function searchStatus(s) {
  if (!s.room) return '';
  if (s.error) return s.error;
  if (s.pending && !s.results.length) return 'Searching…';
  if (!s.results.length) return s.done ? `No messages match “${s.query.trim()}”.` : '';
  const n = s.results.length;
  return `${n}${s.hasMore ? '+' : ''} ${n === 1 ? 'message matches' : 'messages match'}`;
}

// --- Marking the words found --------------------------------------------------------------------------------------

const TOKEN = /[\p{L}\p{N}\p{M}]+/gu;

/** Case and accents ignored, as the server's index does ("Élève" finds "eleve"). */
export function fold(text) {
  return String(text).toLowerCase().normalize('NFD').replace(/\p{M}/gu, '');
}

/**
 * The query's words as the server reads them: split at spaces, each cut into its runs of letters and digits (the
 * index splits words the same way), folded; the very last one matches the start of a word, the others whole words.
 */
export function queryTerms(query) {
  const words = String(query ?? '').split(/\s+/u).filter((w) => /[\p{L}\p{N}]/u.test(w)).slice(0, 10);
  const terms = [];
  for (const w of words) for (const t of fold(w).match(TOKEN) || []) terms.push({ text: t, prefix: false });
  if (terms.length) terms[terms.length - 1].prefix = true;
  return terms;
}

/**
 * `text` cut into pieces `{ text, match }`: each word the query finds is a piece of its own (the view wraps it in
 * `<mark>`, as text). One piece when nothing matches.
 */
export function highlightParts(text, query) {
  const value = String(text ?? '');
  const terms = queryTerms(query);
  const parts = [];
  let at = 0;
  if (terms.length) {
    for (const m of value.matchAll(TOKEN)) {
      const word = fold(m[0]);
      const found = terms.some((t) => (t.prefix ? word.startsWith(t.text) : word === t.text));
      if (!found) continue;
      if (m.index > at) parts.push({ text: value.slice(at, m.index), match: false });
      parts.push({ text: m[0], match: true });
      at = m.index + m[0].length;
    }
  }
  if (at < value.length || !parts.length) parts.push({ text: value.slice(at), match: false });
  return parts;
}
