// The two room-password dialogs. `#room-password-dialog` opens when the server refuses a join for the room's
// password (state.roomPassword, see room-password.js): the user types it and the room is joined again with it, or
// cancels. `#set-room-password-dialog` is a moderator's "Set room password…" (`#set-room-password-btn`): set one, or
// remove it. The fields are cleared as soon as their value is handed to the bridge.

import { submitRoomPassword, cancelRoomPassword, roomPasswordProblem } from './room-password.js';
import { addNotice } from './state.js';
import { setText, show, openModal, closeModal } from './view/dom.js';

const $ = (id) => document.getElementById(id);

export function setupRoomPasswordDialogs(app) {
  const dialog = $('room-password-dialog');
  const form = $('room-password-form');
  const title = $('room-password-room');
  const input = $('room-password-input');
  const error = $('room-password-error');
  const submit = $('room-password-submit-btn');
  /** The room the dialog is open for, so a refusal for another room re-fills it. */
  let shownFor = null;

  function fail(message) {
    setText(error, message);
    show(error, Boolean(message));
  }

  form.addEventListener('submit', (e) => {
    e.preventDefault();
    const problem = roomPasswordProblem(input.value);
    if (problem) {
      fail(problem);
      input.focus();
      return;
    }
    const effects = submitRoomPassword(app.state, input.value);
    input.value = '';
    fail('');
    app.run(effects);
    app.render(true);
  });
  $('room-password-cancel-btn').addEventListener('click', () => {
    cancelRoomPassword(app.state);
    app.render(true);
  });
  // Escape closes a modal dialog by itself (`cancel`): that is giving up too.
  dialog.addEventListener('cancel', (e) => {
    e.preventDefault();
    cancelRoomPassword(app.state);
    app.render(true);
  });

  // --- A moderator sets or removes the password ---------------------------------------------------------------

  const setDialog = $('set-room-password-dialog');
  const setInput = $('set-room-password-input');
  const setError = $('set-room-password-error');

  function setFail(message) {
    setText(setError, message);
    show(setError, Boolean(message));
  }

  $('set-room-password-btn').addEventListener('click', () => {
    const room = app.state.active;
    if (!room) return;
    setText($('set-room-password-room'), `#${room}`);
    const listed = app.state.listing.get(room);
    show($('set-room-password-remove-btn'), Boolean(listed && listed.hasPassword));
    setInput.value = '';
    setFail('');
    openModal(setDialog);
    setInput.focus();
  });

  async function change(password) {
    const room = app.state.active;
    if (!room) return;
    const problem = password ? roomPasswordProblem(password) : '';
    if (problem) {
      setFail(problem);
      setInput.focus();
      return;
    }
    setInput.value = '';
    try {
      await app.bridge.setRoomPassword({ room, password });
    } catch (err) {
      setFail(err.message || 'That did not work.');
      return;
    }
    closeModal(setDialog);
    const text = password
      ? `You set a password for #${room}: whoever has not entered it yet will be asked for it.`
      : `You removed the password of #${room}.`;
    addNotice(app.state, room, 'info', text);
    app.render();
  }

  $('set-room-password-form').addEventListener('submit', (e) => {
    e.preventDefault();
    if (!setInput.value) {
      setFail('Type the new password, or remove the one the room has.');
      setInput.focus();
      return;
    }
    change(setInput.value);
  });
  $('set-room-password-remove-btn').addEventListener('click', () => change(''));
  $('set-room-password-cancel-btn').addEventListener('click', () => closeModal(setDialog));
  setDialog.addEventListener('close', () => {
    setInput.value = '';
    app.focusComposer();
  });

  return {
    /** Opens, updates or closes the join dialog after the state. */
    render() {
      const asked = app.state.roomPassword;
      if (!asked) {
        if (dialog.open || dialog.hasAttribute('open')) {
          closeModal(dialog);
          input.value = '';
          shownFor = null;
          app.focusComposer();
        }
        return;
      }
      if (shownFor !== asked.room) {
        shownFor = asked.room;
        setText(title, `#${asked.room}`);
        input.value = '';
        fail('');
      }
      if (asked.wrong) fail('That is not the room’s password. Ask whoever made the room, and try again.');
      submit.disabled = asked.pending;
      setText(submit, asked.pending ? 'Joining…' : 'Join');
      if (!dialog.open && !dialog.hasAttribute('open')) {
        openModal(dialog);
        input.focus();
      } else if (asked.wrong && document.activeElement !== input) {
        input.focus();
      }
    },
  };
}
