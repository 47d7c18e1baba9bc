// "Export transcript" in the room header (`#export-btn`, desktop app only: `features.host`): Markdown, HTML or JSON
// (`button.export-format[data-format]`). The app writes the file to the Downloads folder from the history this
// computer stores, so only rooms it hosted can be exported; the conversation then says where the file is, or the
// app's reason why not.

import { addNotice } from './state.js';
import { show } from './view/dom.js';
import { closeOnEscapeOrClickAway } from './view/popover.js';

const $ = (id) => document.getElementById(id);

export function setupExportMenu(app) {
  const button = $('export-btn');
  const menu = $('export-menu');

  function setOpen(on) {
    show(menu, on);
    button.setAttribute('aria-expanded', String(on));
  }

  button.addEventListener('click', () => {
    setOpen(menu.hidden);
    if (!menu.hidden) menu.querySelector('.export-format').focus();
  });

  menu.addEventListener('click', async (e) => {
    const choice = e.target.closest('button.export-format');
    if (!choice) return;
    setOpen(false);
    const s = app.state;
    const room = s.active;
    if (!room) return;
    const session = s.session;
    let line;
    try {
      const path = await app.bridge.exportRoom({ room, format: choice.dataset.format });
      line = ['export', `Transcript of #${room} saved: ${path}`];
    } catch (err) {
      line = ['error', err.message || 'The transcript could not be saved.'];
    }
    if (app.state.session !== session) return; // Another connection by now: that room is not on screen.
    addNotice(s, room, ...line);
    app.render();
  });

  closeOnEscapeOrClickAway(menu, button, () => setOpen(false));

  return {
    /** Shown for a joined room (not a direct conversation) where the bridge can export at all. */
    render() {
      const s = app.state;
      const c = s.active && s.convs.get(s.active);
      const can = Boolean(app.features.host) && Boolean(c && !c.dm && c.joined);
      show(button, can);
      if (!can && !menu.hidden) setOpen(false);
    },
  };
}
