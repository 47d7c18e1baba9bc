// The chat screen's interactions: switching conversations, the composer (Enter sends, Shift+Enter new line, typing
// notices, drafts per conversation, the reply being prepared, a moderator's announcement), new rooms, topics, mute
// and do-not-disturb, leaving and disconnecting. What is done to a message itself (vote, react, reply, edit, delete,
// pin, acknowledge) is in message-actions.js; what a moderator does to people, in class-controls.js.

import { setActive, requestOlder, jumpToLatest, addPending, dropPending, conv } from './state.js';
import { roomKey } from './names.js';
import { roomEntries, dmEntries } from './selectors.js';
import * as store from './store.js';
import { sentence } from './connect.js';
import { setText, show } from './view/dom.js';
import { setupReply } from './reply.js';
import { setupAnnounceToggle } from './announce-toggle.js';
import { roomPasswordProblem } from './room-password.js';

const $ = (id) => document.getElementById(id);
const noop = () => {};

/** Repeat `typing: true` at most this often while the composer has text (PROTOCOL.md §9). */
const TYPING_EVERY_MS = 3000;
/** Room name rule of PROTOCOL.md §4: 1–32 letters or digits of any script, or `_` `-`. */
const ROOM_RE = /^[\p{Alphabetic}\p{N}_-]+$/u;

export function setupChat(app, messages) {
  const { bridge } = app;
  const input = $('composer-input');
  const composer = $('composer');
  const composerError = $('composer-error');
  const topicBtn = $('room-topic');
  const topicForm = $('topic-form');
  const topicInput = $('topic-input');
  const newRoomBtn = $('new-room-btn');
  const newRoomForm = $('new-room-form');
  const newRoomName = $('new-room-name');
  const newRoomError = $('new-room-error');
  const newRoomPassword = $('new-room-password');
  const sidebar = $('sidebar');
  const sidebarToggle = $('sidebar-toggle');
  const drafts = new Map();
  const reply = setupReply(app, input);
  const announce = setupAnnounceToggle(app, input);
  let typingRoom = null;
  let typingAt = 0;

  const state = () => app.state;

  // --- Switching conversations ------------------------------------------------------------------------------------

  /** Shows conversation `room` (joining it and loading its newest messages when needed). */
  function open(room, { focus = true, switchTo = true } = {}) {
    const key = roomKey(room);
    const s = state();
    if (!switchTo) {
      const c = conv(s, key);
      if (!c.joined && !c.joining) {
        c.joining = true;
        app.run([{ type: 'join', room: key }]);
      }
      app.render();
      return;
    }
    if (s.active !== key) {
      if (s.active) drafts.set(s.active, input.value);
      stopTyping();
      app.run(setActive(s, key));
      input.value = drafts.get(key) || '';
      grow();
      show(composerError, false);
      cancelTopic();
      reply.render();
    } else {
      // On screen but not joined (the join was refused, e.g. `removed_from_room`): another click tries again.
      const c = conv(s, key);
      if (!c.joined && !c.joining && !c.dm) app.run(setActive(s, key));
    }
    setSidebarOpen(false);
    app.render(true);
    if (focus) input.focus();
  }

  function openDm(nick) {
    const key = `@${nick.toLowerCase()}`;
    state().dmNames.set(key, nick);
    open(key);
  }

  for (const list of [$('room-list'), $('dm-list')]) {
    list.addEventListener('click', (e) => {
      const li = e.target.closest('li[data-room]');
      if (li && e.target.closest('button')) open(li.dataset.room);
    });
  }
  $('online-list').addEventListener('click', (e) => {
    const li = e.target.closest('li[data-nick]');
    // The entry's own button; a moderator's Mute/Remove beside it are class-controls.js's.
    if (li && e.target.closest('button.member')) openDm(li.dataset.nick);
  });

  /** Alt+↑ / Alt+↓ move to the previous / next conversation in the sidebar. */
  function step(delta) {
    const s = state();
    const keys = [...roomEntries(s).filter((r) => r.joined || r.key === s.active).map((r) => r.key), ...dmEntries(s).map((d) => d.key)];
    if (!keys.length) return;
    const i = keys.indexOf(s.active);
    open(keys[(i + delta + keys.length) % keys.length]);
  }

  // --- Composer ---------------------------------------------------------------------------------------------------

  function grow() {
    input.style.height = 'auto';
    input.style.height = `${Math.min(input.scrollHeight, 200)}px`;
  }

  function sendTyping(room, typing) {
    const s = state();
    const c = s.convs.get(room);
    if (s.conn.state !== 'online' || !c || !(c.joined || c.dm)) return;
    bridge.typing({ room, typing }).catch(noop);
  }

  function stopTyping() {
    if (typingRoom) sendTyping(typingRoom, false);
    typingRoom = null;
    typingAt = 0;
  }

  input.addEventListener('input', () => {
    grow();
    show(composerError, false);
    const room = state().active;
    if (!room) return;
    if (!input.value.trim()) {
      stopTyping();
    } else if (typingRoom !== room || Date.now() - typingAt >= TYPING_EVERY_MS) {
      if (typingRoom && typingRoom !== room) stopTyping();
      typingRoom = room;
      typingAt = Date.now();
      sendTyping(room, true);
    }
  });

  input.addEventListener('keydown', (e) => {
    if (e.key === 'Enter' && !e.shiftKey && !e.altKey && !e.ctrlKey && !e.metaKey && !e.isComposing) {
      e.preventDefault();
      send();
    }
  });

  composer.addEventListener('submit', (e) => {
    e.preventDefault();
    send();
    input.focus();
  });

  function composerFail(message) {
    setText(composerError, sentence(message));
    show(composerError, true);
  }

  async function send() {
    const s = state();
    const room = s.active;
    const text = input.value;
    if (!room) return composerFail('Pick a room or a person on the left first.');
    if (!text.trim()) return;
    const max = s.limits.max_text_chars || 4000;
    const length = [...text].length;
    if (length > max) return composerFail(`That message has ${length} characters; the limit is ${max}. Shorten it or split it in two.`);
    input.value = '';
    drafts.delete(room);
    grow();
    stopTyping();
    show(composerError, false);
    app.stickNext = true;
    showLatest(room);
    const session = s.session;
    // An announcement is not a reply: the reply being prepared waits for the next message.
    const announcing = announce.take(room);
    const quote = announcing ? null : reply.take(room);
    try {
      const clientId = announcing
        ? await bridge.sendAnnouncement({ room, text })
        : await bridge.send({ room, text, replyTo: quote ? quote.seq : null });
      if (s.session === session && typeof clientId === 'string') {
        addPending(s, { client_id: clientId, room, text, quote, announce: announcing });
      }
    } catch (err) {
      reply.restore(room, quote);
      if (announcing) announce.restore(room);
      // Nothing was queued: give the text back so it is not lost.
      if (state().active === room && !input.value) {
        input.value = text;
        grow();
      } else if (!drafts.get(room)) {
        drafts.set(room, text);
      }
      composerFail(err.message);
    }
    app.render();
  }

  // Messages refused by the server carry a "Dismiss" button.
  $('messages').addEventListener('click', (e) => {
    const btn = e.target.closest('.dismiss-btn');
    if (!btn) return;
    dropPending(state(), state().active, btn.dataset.clientId);
    app.render();
    input.focus();
  });

  $('load-older-btn').addEventListener('click', () => {
    const s = state();
    if (!s.active) return;
    app.run(requestOlder(s, s.active));
    app.render();
  });

  /** Back to the newest messages of `room`: reloads them when the window is elsewhere in the history. */
  function showLatest(room) {
    app.run(jumpToLatest(state(), room));
    messages.followLatest();
  }

  $('jump-btn').addEventListener('click', () => {
    const s = state();
    if (s.active) showLatest(s.active);
    app.render(true);
    input.focus();
  });

  // --- New room ---------------------------------------------------------------------------------------------------

  function setNewRoomOpen(on) {
    show(newRoomForm, on);
    newRoomBtn.setAttribute('aria-expanded', String(on));
    show(newRoomError, false);
    newRoomPassword.value = '';
    if (on) {
      newRoomName.value = '';
      newRoomName.focus();
    }
  }

  newRoomBtn.addEventListener('click', () => {
    setNewRoomOpen(newRoomForm.hidden);
    if (newRoomForm.hidden) newRoomBtn.focus();
  });
  $('new-room-cancel').addEventListener('click', () => {
    setNewRoomOpen(false);
    newRoomBtn.focus();
  });
  newRoomForm.addEventListener('submit', async (e) => {
    e.preventDefault();
    const name = newRoomName.value.trim().replace(/^#/, '');
    let problem = '';
    if (!name) problem = 'Type a name for the room.';
    else if ([...name].length > (state().limits.max_room_chars || 32)) problem = 'Use at most 32 characters.';
    else if (!ROOM_RE.test(name)) problem = 'Use only letters, digits, _ and - (no spaces).';
    const passwordProblem = problem ? '' : roomPasswordProblem(newRoomPassword.value, { required: false });
    if (problem || passwordProblem) {
      setText(newRoomError, problem || passwordProblem);
      show(newRoomError, true);
      (problem ? newRoomName : newRoomPassword).focus();
      return;
    }
    // Optional: others type it the first time they enter; the creator never does. Sent once, then cleared.
    const password = newRoomPassword.value;
    newRoomPassword.value = '';
    try {
      await bridge.createRoom({ room: name, topic: '', password });
    } catch (err) {
      setText(newRoomError, sentence(err.message));
      show(newRoomError, true);
      return;
    }
    setNewRoomOpen(false);
    open(name); // The creator is not joined: opening it joins (or, if it already existed, simply joins it).
  });

  // --- Topic ------------------------------------------------------------------------------------------------------

  function editTopic() {
    const s = state();
    const c = s.active && s.convs.get(s.active);
    if (!c || c.dm || !c.joined) return;
    topicInput.value = c.topic;
    show(topicBtn, false);
    show(topicForm, true);
    topicInput.focus();
    topicInput.select();
  }

  function cancelTopic(refocus = false) {
    if (topicForm.hidden) return;
    show(topicForm, false);
    show(topicBtn, true);
    app.render();
    if (refocus) topicBtn.focus();
  }

  topicBtn.addEventListener('click', editTopic);
  topicForm.addEventListener('submit', (e) => {
    e.preventDefault();
    const room = state().active;
    const topic = topicInput.value.trim();
    if (room) {
      bridge.setTopic({ room, topic }).catch((err) => composerFail(err.message));
    }
    cancelTopic(true);
  });
  topicInput.addEventListener('blur', () => setTimeout(() => cancelTopic(false), 0));

  // --- Notifications, leaving, disconnecting ----------------------------------------------------------------------

  function savePrefs() {
    const { prefs } = state();
    store.savePrefs(prefs);
    bridge.setNotifyPrefs({ dnd: prefs.dnd, muted: [...prefs.muted] }).catch(noop);
    app.render(true);
  }

  $('mute-toggle').addEventListener('click', () => {
    const s = state();
    if (!s.active) return;
    if (s.prefs.muted.has(s.active)) s.prefs.muted.delete(s.active);
    else s.prefs.muted.add(s.active);
    savePrefs();
  });

  $('dnd-toggle').addEventListener('click', () => {
    state().prefs.dnd = !state().prefs.dnd;
    savePrefs();
  });

  // Actions on the room on screen: moderators' (shown after `moderating`; answered by `room_state`/`hands`), and the
  // hand anyone raises.
  const roomAction = (call) => async () => {
    const room = state().active;
    if (!room) return;
    try {
      await call(room);
    } catch (err) {
      composerFail(err.message);
    }
  };
  $('lock-timed-btn').addEventListener('click', roomAction((room) => bridge.lockRoom({ room, seconds: 300 })));
  $('lock-btn').addEventListener('click', roomAction((room) => bridge.lockRoom({ room })));
  $('unlock-btn').addEventListener('click', roomAction((room) => bridge.unlockRoom({ room })));
  $('call-on-btn').addEventListener(
    'click',
    roomAction((room) => bridge.callOn({ room, nick: $('call-on-btn').dataset.nick || '' })),
  );
  $('clear-hands-btn').addEventListener('click', roomAction((room) => bridge.clearHands({ room })));
  $('hand-btn').addEventListener(
    'click',
    roomAction((room) => bridge.raiseHand({ room, raised: $('hand-btn').getAttribute('aria-pressed') !== 'true' })),
  );
  const slowSelect = $('slow-mode-select');
  slowSelect.addEventListener(
    'change',
    roomAction((room) => bridge.slowMode({ room, seconds: Number(slowSelect.value) || 0 })),
  );

  $('leave-btn').addEventListener('click', async () => {
    const s = state();
    const room = s.active;
    if (!room) return;
    try {
      await bridge.leave({ room });
    } catch (err) {
      composerFail(err.message);
      return;
    }
    s.convs.delete(room);
    drafts.delete(room);
    const next = roomEntries(s).find((r) => r.joined && r.key !== room) || dmEntries(s)[0];
    s.active = null;
    if (next) open(next.key);
    else app.render();
  });

  $('disconnect-btn').addEventListener('click', () => {
    stopTyping();
    app.disconnect('');
  });
  $('banner-back-btn').addEventListener('click', () => {
    const { reason } = state().conn;
    app.disconnect(reason ? `Disconnected: ${reason}` : '');
  });
  $('banner-retry-btn').addEventListener('click', () => {
    if (app.retry) app.retry();
  });

  // --- Narrow windows: the sidebar slides in over the conversation --------------------------------------------------

  function setSidebarOpen(on) {
    document.body.classList.toggle('sidebar-open', on);
    sidebarToggle.setAttribute('aria-expanded', String(on));
  }
  // A click on the dimmed conversation closes the sliding sidebar.
  document.querySelector('.conversation').addEventListener('click', (e) => {
    if (!document.body.classList.contains('sidebar-open') || sidebarToggle.contains(e.target)) return;
    e.preventDefault();
    e.stopPropagation();
    setSidebarOpen(false);
  }, true);
  sidebarToggle.addEventListener('click', () => {
    const on = !document.body.classList.contains('sidebar-open');
    setSidebarOpen(on);
    if (on) (sidebar.querySelector('[aria-current="true"] button, button.conv-btn') || newRoomBtn).focus();
  });

  // --- Keyboard ---------------------------------------------------------------------------------------------------

  document.addEventListener('keydown', (e) => {
    if (app.screen !== 'chat') return;
    if (e.altKey && (e.key === 'ArrowUp' || e.key === 'ArrowDown')) {
      e.preventDefault();
      step(e.key === 'ArrowUp' ? -1 : 1);
    } else if (e.key === 'Escape') {
      if (!topicForm.hidden) cancelTopic(true);
      else if (!newRoomForm.hidden) {
        setNewRoomOpen(false);
        newRoomBtn.focus();
      } else if (document.body.classList.contains('sidebar-open')) {
        setSidebarOpen(false);
        sidebarToggle.focus();
      } else return;
      e.preventDefault();
    }
  });

  return {
    open,
    reply,
    announce,
    focusComposer() {
      input.focus();
    },
  };
}
