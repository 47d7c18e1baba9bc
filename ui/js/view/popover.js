// A popover menu opened by a button (Export transcript, Snippets) closes on Escape, giving the focus back to its
// button, and on a click anywhere else.

/** Calls `close` on Escape in `menu` and on a click outside `menu` and `button` while it is open. */
export function closeOnEscapeOrClickAway(menu, button, close) {
  menu.addEventListener('keydown', (e) => {
    if (e.key !== 'Escape') return;
    e.preventDefault();
    e.stopPropagation();
    close();
    button.focus();
  });
  document.addEventListener('click', (e) => {
    // The path as dispatched: an element the click removed from the menu (a deleted snippet's ×) still counts.
    const path = e.composedPath();
    if (!menu.hidden && !path.includes(menu) && !path.includes(button)) close();
  });
}
