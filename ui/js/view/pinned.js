// The pinned message's bar at the top of the room (`#pinned-bar`): who wrote it and its text (`#pinned-text`), the
// message's `seq` in `data-seq` (a click scrolls to it when the list holds it), and, for moderators, `#unpin-btn`.
// The copy shown is kept current by `message_updated` (classroom.js), so an edit shows here too.

import { setText, show, attr } from './dom.js';

/** Draws the bar for the conversation on screen. `els`: `{ bar, open, from, text, unpin }`. */
export function renderPinned(state, els, { moderator }) {
  const key = state.active;
  const c = key ? state.convs.get(key) : null;
  const m = c && !c.dm && c.joined ? state.pinned.get(key) : null;
  show(els.bar, Boolean(m));
  if (!m) {
    els.bar.classList.remove('expanded');
    return;
  }
  if (els.bar.dataset.seq !== String(m.seq)) els.bar.classList.remove('expanded'); // Another message: fold it again.
  els.bar.dataset.seq = String(m.seq);
  setText(els.from, m.from);
  setText(els.text, m.text);
  attr(els.open, 'title', `Pinned message from ${m.from}: click to show it`);
  show(els.unpin, Boolean(moderator));
}
