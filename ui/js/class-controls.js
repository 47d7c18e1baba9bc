// What a moderator does to people in the room on screen, and the pinned bar's buttons: Mute / Unmute and Remove in
// the online list, "Let back in" in the Removed list, Unpin in the pinned bar; and for everyone, a click on the
// pinned message shows it (scrolled to, when the message list holds it; else the bar unfolds its whole text).
//
// Like the other actions, nothing changes on screen until the server says so (`room_state`, `pinned`); a refusal
// comes back as an `error` and shows as a notice.

const $ = (id) => document.getElementById(id);

export function setupClassControls(app) {
  const { bridge } = app;
  const bar = $('pinned-bar');

  /** Runs a bridge call for the room on screen; a rejection becomes a line in the conversation. */
  async function act(call) {
    const room = app.state.active;
    if (!room) return;
    try {
      await call(room);
    } catch (err) {
      app.note(err.message || 'That did not work.');
    }
  }

  $('online-list').addEventListener('click', (e) => {
    const li = e.target.closest('li[data-nick]');
    const btn = e.target.closest('.mute-btn, .unmute-btn, .remove-btn');
    if (!li || !btn) return;
    const nick = li.dataset.nick;
    if (btn.classList.contains('remove-btn')) act((room) => bridge.removeMember({ room, nick, removed: true }));
    else act((room) => bridge.muteMember({ room, nick, muted: btn.classList.contains('mute-btn') }));
  });

  $('removed-list').addEventListener('click', (e) => {
    const li = e.target.closest('li[data-nick]');
    if (li && e.target.closest('.readmit-btn')) act((room) => bridge.removeMember({ room, nick: li.dataset.nick, removed: false }));
  });

  $('unpin-btn').addEventListener('click', () => act((room) => bridge.pinMessage({ room, seq: null })));

  $('pinned-open').addEventListener('click', () => {
    const row = document.querySelector(`#messages li.message[data-seq="${Number(bar.dataset.seq)}"]`);
    if (row) {
      row.scrollIntoView({ block: 'center', behavior: 'smooth' });
      row.classList.add('flash');
      setTimeout(() => row.classList.remove('flash'), 1200);
    } else {
      // Older than the messages loaded: the bar itself shows all of it.
      bar.classList.toggle('expanded');
    }
  });
}
