// The search field in the room header (`#search-input`) and its panel: it searches the conversation on screen when
// the user presses Enter or pauses typing (SEARCH_PAUSE_MS); Escape or × closes it; "Load more" asks for older
// results; a click on a result shows that message in the conversation — scrolled to when the window holds it, else
// the page around it is loaded first — and highlights it for a moment. The rules are search.js's.

import { startSearch, moreResults, newSearch } from './search.js';
import { jumpToMessage } from './state.js';
import { renderSearch } from './view/search.js';

const $ = (id) => document.getElementById(id);

/** Typing pause before a search goes out: the server is asked once per word, not once per key. */
export const SEARCH_PAUSE_MS = 300;

export function setupSearchBox(app, messages) {
  const form = $('search-form');
  const input = $('search-input');
  const els = { panel: $('search-panel'), status: $('search-status'), results: $('search-results'), more: $('search-more-btn') };
  let timer = 0;

  /** Searches for what the field holds; after a pause, not again for words already searched (Enter does). */
  function search({ again = false } = {}) {
    clearTimeout(timer);
    timer = 0;
    const s = app.state;
    if (!s.active) return;
    if (!again && s.search.room === s.active && s.search.query === input.value) return;
    app.run(startSearch(s, s.active, input.value));
    app.render(true);
  }

  function close({ refocus = false } = {}) {
    clearTimeout(timer);
    timer = 0;
    input.value = '';
    app.state.search = newSearch();
    app.render(true);
    if (refocus) app.focusComposer();
  }

  input.addEventListener('input', () => {
    clearTimeout(timer);
    if (!input.value.trim()) {
      close();
      return;
    }
    timer = setTimeout(search, SEARCH_PAUSE_MS);
  });
  form.addEventListener('submit', (e) => {
    e.preventDefault();
    search({ again: true }); // Enter: also to look again for words just sent (new messages are indexed in a moment).
  });
  for (const node of [input, els.panel]) {
    node.addEventListener('keydown', (e) => {
      if (e.key !== 'Escape') return;
      e.preventDefault();
      e.stopPropagation(); // Not also the document's Escape (the sliding sidebar, the topic editor).
      close({ refocus: node !== input });
      if (node === input) input.blur();
    });
  }
  $('search-close-btn').addEventListener('click', () => close({ refocus: true }));
  els.more.addEventListener('click', () => {
    app.run(moreResults(app.state));
    app.render(true);
  });

  els.results.addEventListener('click', (e) => {
    const li = e.target.closest('li.search-hit');
    const s = app.state;
    const seq = Number(li && li.dataset.seq);
    if (!li || !s.active || !Number.isSafeInteger(seq)) return;
    app.run(jumpToMessage(s, s.active, seq));
    messages.reveal(seq);
    app.render(true);
  });

  return {
    /** Draws the panel; a search of another conversation than the one on screen is closed first. */
    render() {
      const s = app.state;
      if (s.search.room && s.search.room !== s.active) {
        s.search = newSearch();
        input.value = '';
      }
      const c = s.active && s.convs.get(s.active);
      input.disabled = !c;
      renderSearch(s, els);
    },
  };
}
