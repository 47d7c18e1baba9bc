// A message's text as DOM nodes: the tree of markdown.js turned into `strong`, `em`, `code` and `a` elements made
// with createElement, every string put in as a text node, and the user's own `@nick` mentions marked inside the
// formatted text too (not inside code, which is shown exactly as typed). No HTML is parsed anywhere.

import { parseMarkdown, mayHaveMarkup } from '../markdown.js';
import { mentionParts } from '../names.js';
import { el } from './dom.js';

/** Text with the mentions of `me` in `.mention-name` spans (when the message mentions the user at all). */
function textNodes(text, ctx) {
  if (!ctx.mention) return [document.createTextNode(text)];
  return mentionParts(text, ctx.me).map((p) => (p.mention ? el('span', { class: 'mention-name', text: p.text }) : document.createTextNode(p.text)));
}

function build(nodes, ctx) {
  const out = [];
  for (const n of nodes) {
    if (n.type === 'text') out.push(...textNodes(n.text, ctx));
    else if (n.type === 'code') out.push(el('code', { class: 'md-code', text: n.text }));
    else if (n.type === 'strong') out.push(el('strong', {}, ...build(n.children, ctx)));
    else if (n.type === 'em') out.push(el('em', {}, ...build(n.children, ctx)));
    else if (n.type === 'link') {
      // A new tab in a browser; in the app links.js hands the click to the system browser. `title`: where it goes,
      // whatever the link's text claims.
      out.push(
        el('a', { class: 'md-link', href: n.href, target: '_blank', rel: 'noopener noreferrer', title: n.href }, ...build(n.children, ctx)),
      );
    }
  }
  return out;
}

/**
 * Fills `node` with message text `text`. `ctx`: `{ me, mention }` (`mention`: the message mentions the user, so
 * their `@nick` is marked). Plain text without mentions stays one text node.
 */
export function renderRichText(node, text, ctx) {
  const value = String(text ?? '');
  if (!ctx.mention && !mayHaveMarkup(value)) {
    if (node.childElementCount) node.replaceChildren();
    if (node.textContent !== value) node.textContent = value;
    return;
  }
  node.replaceChildren(...build(parseMarkdown(value), ctx));
}
