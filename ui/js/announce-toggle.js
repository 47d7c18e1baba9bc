// The moderator's "Announce" toggle beside the composer (`#announce-toggle`): while it is pressed, the next message
// sent in the room on screen goes as an announcement (`sendAnnouncement`), which everyone confirms with "I've read
// it". It lets go after that one send, and when the conversation changes, so no later message becomes one by
// surprise.

import { show, attr } from './view/dom.js';

const $ = (id) => document.getElementById(id);

export function setupAnnounceToggle(app, input) {
  const btn = $('announce-toggle');
  /** The room the toggle was pressed in, or null. */
  let armedFor = null;

  /** Shows the toggle where it applies: a joined room on screen, for a moderator. */
  function render(moderator) {
    const s = app.state;
    const c = s.active ? s.convs.get(s.active) : null;
    const usable = Boolean(moderator && c && !c.dm && c.joined);
    if (!usable || armedFor !== s.active) armedFor = null;
    show(btn, usable);
    const on = armedFor !== null;
    attr(btn, 'aria-pressed', on ? 'true' : 'false');
    btn.classList.toggle('on', on);
    input.classList.toggle('announcing', on);
    if (on) input.placeholder = `Announcement to #${s.active}: everyone is asked to confirm reading it`;
  }

  btn.addEventListener('click', () => {
    armedFor = armedFor === null ? app.state.active : null;
    app.render(true);
    input.focus();
  });

  /** Whether the next send in `room` is an announcement; the toggle lets go. */
  function take(room) {
    const on = armedFor !== null && armedFor === room;
    armedFor = null;
    return on;
  }

  /** Presses the toggle again for `room` (its send failed: the text is back in the composer, and so is this). */
  function restore(room) {
    armedFor = room;
  }

  return { render, take, restore };
}
