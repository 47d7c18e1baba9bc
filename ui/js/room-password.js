// Rooms with a password (PROTOCOL.md §6.4): the first `join` of such a room by a nickname is refused with
// `room_password_required` (or `wrong_room_password`); the UI then asks for the password and joins again with it.
// The server remembers who entered, so only that one join carries the password: the app's core and web-session.js
// never repeat it once the room is entered. Pure, like state.js: functions change `state.roomPassword` and return
// effects. The dialog itself is room-password-dialog.js's.

import { roomKey } from './names.js';
import { conv, addNotice } from './state.js';

/** The refusals that mean "ask the user for the room's password". */
export const ROOM_PASSWORD_ERRORS = new Set(['room_password_required', 'wrong_room_password']);

/** The server's limit on a room password. */
export const MAX_ROOM_PASSWORD_CHARS = 128;

/** What is wrong with a room password typed in, as a sentence, or '' when it can be sent. */
export function roomPasswordProblem(password, { required = true } = {}) {
  const p = String(password ?? '');
  if (!p) return required ? 'Type the room’s password.' : '';
  if ([...p].length > MAX_ROOM_PASSWORD_CHARS) return `A room password is at most ${MAX_ROOM_PASSWORD_CHARS} characters.`;
  // eslint-disable-next-line no-control-regex
  if (/[\u0000-\u001f\u007f]/u.test(p)) return 'A room password cannot contain control characters.';
  return '';
}

/**
 * A server `error`: when it refuses a join for the room's password, the state asks for it (the dialog opens, with
 * "wrong password" after a wrong one) and true is returned, so no notice is added.
 */
export function onPasswordRefusal(state, ev) {
  if (!ROOM_PASSWORD_ERRORS.has(ev.code) || typeof ev.room !== 'string' || !ev.room) return false;
  const key = roomKey(ev.room);
  const c = state.convs.get(key);
  if (c && !c.joined) c.joining = false;
  state.roomPassword = { room: key, wrong: ev.code === 'wrong_room_password', pending: false };
  return true;
}

/** The user typed the password: join again with it (once; the field is cleared by the caller). */
export function submitRoomPassword(state, password) {
  const asked = state.roomPassword;
  if (!asked || asked.pending || roomPasswordProblem(password)) return [];
  asked.pending = true;
  asked.wrong = false;
  conv(state, asked.room).joining = true;
  return [{ type: 'join', room: asked.room, password: String(password) }];
}

/** The user gave up: the room stays unjoined, and its conversation says how to try again. */
export function cancelRoomPassword(state, now = Date.now()) {
  const asked = state.roomPassword;
  state.roomPassword = null;
  if (!asked) return;
  const c = state.convs.get(asked.room);
  if (c && !c.joined) {
    c.joining = false;
    addNotice(state, asked.room, 'info', `#${asked.room} needs its password. Pick it under Rooms to try again.`, now);
  }
}

/** A `joined` for `room`: the password was right (or not needed after all); nothing is asked any more. */
export function onRoomEntered(state, room) {
  if (state.roomPassword && state.roomPassword.room === roomKey(room)) state.roomPassword = null;
}

/** The bridge could not send the join (not connected): the dialog may be submitted again. */
export function roomPasswordSendFailed(state, room) {
  const asked = state.roomPassword;
  if (asked && asked.room === roomKey(room)) asked.pending = false;
}
