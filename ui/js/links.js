// Links in messages (`a.md-link`, drawn by view/rich-text.js). In a browser they open in a new tab by themselves
// (`target="_blank"`, `rel="noopener noreferrer"`). In the desktop app a page from a chat message must never load in
// the app's own webview, where the app's commands are: the click is stopped and the link goes to the system browser
// through `bridge.openLink` (which checks the scheme again). `features.links` says the bridge can do that.

const $ = (id) => document.getElementById(id);

export function setupLinks(app) {
  const { bridge } = app;

  function follow(e) {
    const a = e.target.closest && e.target.closest('a.md-link');
    if (!a || !app.features.links) return;
    // Middle and modified clicks too: none may open a window of the webview.
    e.preventDefault();
    if (e.type === 'auxclick' && e.button !== 1) return;
    bridge.openLink({ url: a.href }).catch((err) => app.note(err.message || 'That link could not be opened.'));
  }

  $('messages').addEventListener('click', follow);
  $('messages').addEventListener('auxclick', follow);
}
