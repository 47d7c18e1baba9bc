// What the user does to a message in the list (`#messages`, one delegated listener): vote on a poll and close it,
// react (the picker, or a chip), reply, edit their own message in place (Enter saves, Escape cancels), delete
// (after a confirmation dialog; their own, or anyone's when moderating), say "I've read it" to an announcement, and
// for moderators pin a message to the top of the room (or take it down).
//
// Nothing changes on screen until the server says so (`message_updated`): on a LAN that is immediate, and the
// screen never shows a vote or an edit the server refused. Refusals come back as `error` events and are shown as
// notices (events.js); a call the bridge cannot make (no connection) is noted at once.

import { nextChoices } from './polls.js';
import { reactionOn } from './reactions.js';
import { canEdit, canDelete } from './message.js';
import { openModal, closeModal, setText } from './view/dom.js';

const $ = (id) => document.getElementById(id);

export function setupMessageActions(app, messages, chat) {
  const { bridge } = app;
  const list = $('messages');
  const deleteDialog = $('delete-dialog');
  /** The message the delete dialog asks about: `{ room, seq }`. */
  let toDelete = null;

  const state = () => app.state;

  /** The stored message `li` stands for in the conversation on screen, with its room. */
  function target(li) {
    const s = state();
    const seq = Number(li && li.dataset.seq);
    const c = s.active && s.convs.get(s.active);
    const msg = c && Number.isSafeInteger(seq) ? c.bySeq.get(seq) : null;
    return msg ? { room: c.key, seq, msg } : null;
  }

  /** Runs a bridge call; a rejection (not connected, bad input) becomes a line in the conversation. */
  async function act(call) {
    try {
      await call();
    } catch (err) {
      app.note(err.message || 'That did not work.');
    }
  }

  function redraw() {
    app.render(true);
  }

  function closePicker() {
    if (messages.picker === null) return false;
    messages.setPicker(null);
    redraw();
    return true;
  }

  function startEditing(t) {
    messages.setPicker(null);
    messages.setEditing(t.seq);
    redraw();
    const box = list.querySelector(`li.message[data-seq="${t.seq}"] .edit-input`);
    if (box) {
      box.focus();
      box.setSelectionRange(box.value.length, box.value.length);
    }
  }

  function stopEditing(refocus = true) {
    if (messages.editing === null) return;
    messages.setEditing(null);
    redraw();
    if (refocus) chat.focusComposer();
  }

  function saveEdit(t, box) {
    const text = box.value;
    const limit = state().limits.max_text_chars || 4000;
    if (!text.trim()) {
      // An empty edit is a deletion in disguise: ask the way Delete does.
      stopEditing(false);
      askDelete(t);
      return;
    }
    if ([...text].length > limit) {
      app.note(`That text has ${[...text].length} characters; the limit is ${limit}.`);
      return;
    }
    stopEditing();
    if (text !== t.msg.text) act(() => bridge.editMessage({ room: t.room, seq: t.seq, text }));
  }

  function askDelete(t) {
    toDelete = { room: t.room, seq: t.seq };
    setText($('delete-preview'), t.msg.text);
    openModal(deleteDialog);
    $('delete-cancel-btn').focus();
  }

  list.addEventListener('click', (e) => {
    const li = e.target.closest('li.message');
    const t = li && target(li);
    if (!t || t.msg.deleted) return;
    const hit = (selector) => e.target.closest(selector);
    let btn;
    if ((btn = hit('.poll-option'))) {
      const poll = t.msg.poll;
      const index = Number(btn.dataset.index);
      if (!poll || poll.closed || !Number.isSafeInteger(index)) return;
      const choices = nextChoices(poll, index, state().me);
      act(() => bridge.vote({ room: t.room, seq: t.seq, choices }));
    } else if (hit('.poll-close-btn')) {
      act(() => bridge.closePoll({ room: t.room, seq: t.seq }));
    } else if (hit('.react-btn')) {
      messages.setPicker(messages.picker === t.seq ? null : t.seq);
      redraw();
      const first = li.querySelector('.react-choice');
      if (first) first.focus();
    } else if ((btn = hit('.react-choice, .reaction'))) {
      const emoji = btn.dataset.emoji;
      const on = reactionOn(t.msg.reactions || [], emoji, state().me);
      if (btn.classList.contains('react-choice')) {
        closePicker();
        const opener = list.querySelector(`li.message[data-seq="${t.seq}"] .react-btn`);
        if (opener) opener.focus(); // The picker is gone: keep the keyboard where it was.
      }
      act(() => bridge.react({ room: t.room, seq: t.seq, emoji, on }));
    } else if (hit('.reply-btn')) {
      closePicker();
      chat.reply.start(t.room, t.msg);
    } else if (hit('.edit-btn')) {
      if (canEdit(t.msg, state().me)) startEditing(t);
    } else if (hit('.edit-save-btn')) {
      const box = li.querySelector('.edit-input');
      if (box) saveEdit(t, box);
    } else if (hit('.edit-cancel-btn')) {
      stopEditing();
    } else if (hit('.ack-btn')) {
      act(() => bridge.acknowledge({ room: t.room, seq: t.seq }));
    } else if (hit('.pin-btn')) {
      const pinned = state().pinned.get(t.room);
      const seq = pinned && pinned.seq === t.seq ? null : t.seq;
      act(() => bridge.pinMessage({ room: t.room, seq }));
    } else if (hit('.delete-btn')) {
      if (canDelete(t.msg, state().me, state().moderating)) askDelete(t);
    } else if ((btn = hit('.quote'))) {
      // The answered message, when the window holds it.
      const original = list.querySelector(`li.message[data-seq="${Number(btn.dataset.seq)}"]`);
      if (original) original.scrollIntoView({ block: 'center', behavior: 'smooth' });
    }
  });

  list.addEventListener('keydown', (e) => {
    const box = e.target.closest('.edit-input');
    if (!box) return;
    if (e.key === 'Escape') {
      e.preventDefault();
      e.stopPropagation();
      stopEditing();
    } else if (e.key === 'Enter' && !e.shiftKey && !e.altKey && !e.ctrlKey && !e.metaKey && !e.isComposing) {
      e.preventDefault();
      const t = target(box.closest('li.message'));
      if (t) saveEdit(t, box);
    }
  });

  // The picker closes on a click anywhere else, and on Escape.
  document.addEventListener('click', (e) => {
    if (messages.picker !== null && !e.target.closest('.react-picker, .react-btn')) closePicker();
  });
  document.addEventListener('keydown', (e) => {
    if (e.key === 'Escape' && closePicker()) e.preventDefault();
  });

  $('delete-cancel-btn').addEventListener('click', () => closeModal(deleteDialog));
  $('delete-confirm-btn').addEventListener('click', () => {
    const t = toDelete;
    toDelete = null;
    closeModal(deleteDialog);
    if (t) act(() => bridge.deleteMessage(t));
  });
  deleteDialog.addEventListener('close', () => {
    toDelete = null;
    chat.focusComposer();
  });
}
