// The "Snippets" button beside the composer and its menu (`#snippets-menu`): each saved snippet (`li.snippet`) goes
// into the message box where the caret is with a click, its × deletes it, and "Save current text as snippet" keeps
// what the message box holds. The list lives on this device (store.js); its rules are snippets.js's.

import * as store from './store.js';
import { addSnippet, removeSnippet, insertSnippet, snippetPreview } from './snippets.js';
import { el, icon, setText, show } from './view/dom.js';
import { closeOnEscapeOrClickAway } from './view/popover.js';

const $ = (id) => document.getElementById(id);

export function setupSnippetsMenu(input) {
  const button = $('snippets-btn');
  const menu = $('snippets-menu');
  const list = $('snippets-list');
  const empty = $('snippets-empty');
  const error = $('snippets-error');
  const save = $('snippet-save-btn');
  let snippets = store.loadSnippets();

  function render() {
    list.replaceChildren(
      ...snippets.map((text, index) =>
        el(
          'li',
          { class: 'snippet', dataset: { index: String(index) } },
          el('button', { type: 'button', class: 'snippet-insert', title: text, text: snippetPreview(text) }),
          el(
            'button',
            { type: 'button', class: 'icon-btn snippet-delete', title: 'Delete this snippet', 'aria-label': `Delete snippet: ${snippetPreview(text, 40)}` },
            icon('x'),
          ),
        ),
      ),
    );
    show(empty, snippets.length === 0);
  }

  function fail(message) {
    setText(error, message);
    show(error, Boolean(message));
  }

  function setOpen(on) {
    if (on) {
      snippets = store.loadSnippets(); // Another window of this device may have changed them.
      render();
      fail('');
    }
    show(menu, on);
    button.setAttribute('aria-expanded', String(on));
  }

  const isOpen = () => !menu.hidden;

  button.addEventListener('click', () => {
    setOpen(!isOpen());
    if (isOpen()) (list.querySelector('.snippet-insert') || save).focus();
  });

  save.addEventListener('click', () => {
    const { list: next, error: problem } = addSnippet(snippets, input.value);
    if (problem) return fail(problem);
    snippets = store.saveSnippets(next);
    render();
    fail('');
  });

  list.addEventListener('click', (e) => {
    const li = e.target.closest('li.snippet');
    if (!li) return;
    const index = Number(li.dataset.index);
    if (e.target.closest('.snippet-delete')) {
      snippets = store.saveSnippets(removeSnippet(snippets, index));
      render();
      (list.querySelector('.snippet-insert') || save).focus();
      return;
    }
    const text = snippets[index];
    if (typeof text !== 'string') return;
    const { value, caret } = insertSnippet(input.value, input.selectionStart, input.selectionEnd, text);
    input.value = value;
    setOpen(false);
    input.focus();
    input.setSelectionRange(caret, caret);
    // As if typed: the box grows and the others see "is typing".
    input.dispatchEvent(new Event('input', { bubbles: true }));
  });

  closeOnEscapeOrClickAway(menu, button, () => setOpen(false));

  return { close: () => setOpen(false) };
}
