// The search panel (`#search-panel`) under the room header: a status line ("Searching…", "3 messages match", why
// the query was refused, or that nothing matched), the results (`li.search-hit[data-seq]`: sender, time and the
// text with the words found in `<mark>` elements — text nodes all the same) and "Load more".

import { highlightParts, searchStatus } from '../search.js';
import { el, hue, reconcile, setText, show } from './dom.js';

const WHEN = new Intl.DateTimeFormat(undefined, { dateStyle: 'medium', timeStyle: 'short' });

/** `text` with the words `query` finds marked, as nodes. */
export function highlightNodes(text, query) {
  return highlightParts(text, query).map((p) => (p.match ? el('mark', { text: p.text }) : document.createTextNode(p.text)));
}

function createHit() {
  return el(
    'li',
    { class: 'search-hit' },
    el(
      'button',
      { type: 'button', class: 'search-hit-btn' },
      el('span', { class: 'search-meta' }, el('span', { class: 'from search-from' }), ' ', el('time', { class: 'search-time' })),
      el('span', { class: 'search-text' }),
    ),
  );
}

function updateHit(node, hit, query) {
  const sig = `${hit.seq}\u0000${hit.from}\u0000${hit.text}\u0000${query}`;
  if (node._sig === sig) return;
  node._sig = sig;
  node.dataset.seq = String(hit.seq);
  const from = node.querySelector('.search-from');
  from.className = `from search-from c${hue(hit.from)}`;
  setText(from, hit.from);
  const time = node.querySelector('.search-time');
  setText(time, hit.ts ? WHEN.format(hit.ts) : '');
  if (hit.ts) time.dateTime = new Date(hit.ts).toISOString();
  node.querySelector('.search-text').replaceChildren(...highlightNodes(hit.text, query));
  node.querySelector('.search-hit-btn').setAttribute('aria-label', `${hit.from}: ${hit.text.slice(0, 120)}. Show in the conversation`);
}

/** Draws `state.search`. `els`: `{ panel, status, results, more }`. */
export function renderSearch(state, els) {
  const s = state.search;
  show(els.panel, Boolean(s.room));
  if (!s.room) {
    els.results.replaceChildren();
    return;
  }
  setText(els.status, searchStatus(s));
  els.status.classList.toggle('error', Boolean(s.error));
  reconcile(els.results, s.results, { key: (hit) => String(hit.seq), create: createHit, update: (n, hit) => updateHit(n, hit, s.query) });
  show(els.more, s.hasMore);
  els.more.disabled = s.pending;
  setText(els.more, s.pending && s.results.length ? 'Loading…' : 'Load more');
}
