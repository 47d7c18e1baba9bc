// Replying: a message's "Reply" button puts "Replying to X: …" above the composer (`#reply-preview`, with a cancel
// button; Escape in the composer cancels too), and the next send in that conversation answers it (`replyTo: seq`).
// One reply in preparation per conversation, kept while the user looks at another one, like the drafts.

import { roomKey } from './names.js';
import { quoteFor } from './message.js';
import { setText, show } from './view/dom.js';

const $ = (id) => document.getElementById(id);

export function setupReply(app, input) {
  const preview = $('reply-preview');
  const from = $('reply-from');
  const text = $('reply-text');
  /** Conversation key → the quote of the message being answered (`{ seq, from, text }`). */
  const targets = new Map();

  /** Shows the preview of the conversation on screen (or hides it). */
  function render() {
    const q = app.state.active ? targets.get(app.state.active) : null;
    show(preview, Boolean(q));
    if (!q) return;
    setText(from, q.from);
    setText(text, q.text);
  }

  /** Answer stored message `msg` of `room` with the next send. */
  function start(room, msg) {
    targets.set(roomKey(room), quoteFor(msg));
    render();
    input.focus();
  }

  function cancel(room = app.state.active) {
    if (room && targets.delete(roomKey(room))) render();
  }

  /** The quote the next send in `room` carries, taken out of the preview (null when not replying). */
  function take(room) {
    const q = targets.get(roomKey(room)) || null;
    cancel(room);
    return q;
  }

  /** Puts back a quote `take` returned, when its send failed (the text goes back into the composer too). */
  function restore(room, q) {
    if (q && !targets.has(roomKey(room))) targets.set(roomKey(room), q);
    render();
  }

  $('reply-cancel-btn').addEventListener('click', () => {
    cancel();
    input.focus();
  });
  input.addEventListener('keydown', (e) => {
    if (e.key !== 'Escape' || preview.hidden) return;
    e.preventDefault();
    e.stopPropagation(); // Not also the document's Escape (which closes the sliding sidebar).
    cancel();
  });

  /** A new connection: the messages being answered may no longer exist. */
  function clear() {
    targets.clear();
    render();
  }

  return { start, cancel, take, restore, render, clear };
}
