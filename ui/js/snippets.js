// Saved snippets: messages a teacher writes again and again ("Open your books at page…"), kept on this device
// (store.js, `parlor.snippets`) and put into the composer with a click. The list's rules, pure: newest first, no
// two the same, at most MAX_SNIPPETS of at most MAX_SNIPPET_CHARS characters. The menu is snippets-menu.js's.

import { MAX_SNIPPETS, MAX_SNIPPET_CHARS } from './store.js';

export { MAX_SNIPPETS, MAX_SNIPPET_CHARS };

/**
 * `list` with `text` saved at the top: `{ list, error }`. A text saved before moves to the top instead of being
 * kept twice; a full list refuses (nothing is dropped behind the user's back).
 */
export function addSnippet(list, text) {
  const value = String(text ?? '');
  if (!value.trim()) return { list, error: 'Type the text to save in the message box first.' };
  const length = [...value].length;
  if (length > MAX_SNIPPET_CHARS) {
    return { list, error: `That text has ${length} characters; a snippet holds at most ${MAX_SNIPPET_CHARS}.` };
  }
  const rest = list.filter((t) => t !== value);
  if (rest.length >= MAX_SNIPPETS) {
    return { list, error: `You have ${MAX_SNIPPETS} snippets, the most there can be: delete one first.` };
  }
  return { list: [value, ...rest], error: '' };
}

/** `list` without the snippet at `index`. */
export function removeSnippet(list, index) {
  return list.filter((_, i) => i !== index);
}

/** The composer's text with `snippet` put in place of the selection `[start, end)`, and where the caret goes. */
export function insertSnippet(value, start, end, snippet) {
  const a = Math.max(0, Math.min(start ?? value.length, value.length));
  const b = Math.max(a, Math.min(end ?? a, value.length));
  return { value: value.slice(0, a) + snippet + value.slice(b), caret: a + snippet.length };
}

/** A snippet's one-line preview in the menu. */
export function snippetPreview(text, max = 80) {
  const line = String(text).replace(/\s+/gu, ' ').trim();
  const chars = [...line];
  return chars.length > max ? `${chars.slice(0, max - 1).join('')}…` : line;
}
