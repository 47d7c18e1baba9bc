// Small DOM helpers shared by the view modules.
//
// Text always goes in through `textContent` (see `el`): user-provided strings are never parsed as HTML.

const SVG_NS = 'http://www.w3.org/2000/svg';

/**
 * Creates an element. `attrs` values: `class` (string), `dataset` (object), `text` (textContent), booleans set or
 * omit the attribute, anything else is set as an attribute. `children` are nodes or strings (as text nodes).
 */
export function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [name, value] of Object.entries(attrs)) {
    if (value === undefined || value === null || value === false) continue;
    if (name === 'class') node.className = value;
    else if (name === 'text') node.textContent = value;
    else if (name === 'dataset') Object.assign(node.dataset, value);
    else node.setAttribute(name, value === true ? '' : String(value));
  }
  for (const child of children) {
    if (child === null || child === undefined || child === false) continue;
    node.append(typeof child === 'string' ? document.createTextNode(child) : child);
  }
  return node;
}

/** Sets text only when it changed (keeps selections and avoids needless layout). */
export function setText(node, text) {
  const value = String(text ?? '');
  if (node.textContent !== value) node.textContent = value;
}

/** Shows or hides a node with the `hidden` attribute. */
export function show(node, visible) {
  if (node.hidden === visible) node.hidden = !visible;
}

/** Sets or removes an attribute, only when it changed. */
export function attr(node, name, value) {
  if (value === null || value === undefined || value === false) {
    if (node.hasAttribute(name)) node.removeAttribute(name);
  } else {
    const v = value === true ? '' : String(value);
    if (node.getAttribute(name) !== v) node.setAttribute(name, v);
  }
}

/** Icons (24×24 stroke paths), drawn with SVG elements so no markup strings are parsed. */
const ICONS = {
  bell: ['M6 8a6 6 0 0 1 12 0c0 7 3 9 3 9H3s3-2 3-9', 'M10.3 21a1.94 1.94 0 0 0 3.4 0'],
  'bell-off': ['M8.7 3A6 6 0 0 1 18 8a21.3 21.3 0 0 0 .6 5', 'M17 17H3s3-2 3-9a4.67 4.67 0 0 1 .3-1.7', 'M10.3 21a1.94 1.94 0 0 0 3.4 0', 'm2 2 20 20'],
  moon: ['M12 3a6 6 0 0 0 9 9 9 9 0 1 1-9-9Z'],
  logout: ['M9 21H5a2 2 0 0 1-2-2V5a2 2 0 0 1 2-2h4', 'm16 17 5-5-5-5', 'M21 12H9'],
  x: ['M18 6 6 18', 'm6 6 12 12'],
  plus: ['M12 5v14', 'M5 12h14'],
  hash: ['M4 9h16', 'M4 15h16', 'M10 3 8 21', 'M16 3l-2 18'],
  at: ['M16 12a4 4 0 1 1-8 0 4 4 0 0 1 8 0Z', 'M16 8v5a3 3 0 0 0 6 0v-1a10 10 0 1 0-4 8'],
  copy: ['M8 8h12v12H8z', 'M4 16V4h12'],
  door: ['M14 4h4a2 2 0 0 1 2 2v12a2 2 0 0 1-2 2h-4', 'M9 8l-4 4 4 4', 'M5 12h10'],
  menu: ['M4 6h16', 'M4 12h16', 'M4 18h16'],
  down: ['M12 5v14', 'm19 12-7 7-7-7'],
  smile: ['M21 12a9 9 0 1 1-9-9', 'M8 14s1.5 2 4 2 4-2 4-2', 'M9 9h.01', 'M15 9h.01', 'M19 2v6', 'M16 5h6'],
  reply: ['m9 14-5-5 5-5', 'M4 9h10.5a5.5 5.5 0 0 1 0 11H11'],
  pencil: ['M17 3a2.85 2.85 0 1 1 4 4L7.5 20.5 2 22l1.5-5.5Z', 'm15 5 4 4'],
  trash: ['M3 6h18', 'M19 6v14a2 2 0 0 1-2 2H7a2 2 0 0 1-2-2V6', 'M8 6V4a2 2 0 0 1 2-2h4a2 2 0 0 1 2 2v2'],
  chart: ['M3 3v18h18', 'M7 16v-4', 'M12 16V8', 'M17 16v-7'],
  pin: ['M12 17v5', 'M9 3h6', 'M10 3v7l-4 4v3h12v-3l-4-4V3'],
  megaphone: ['m3 11 18-5v12L3 14v-3z', 'M11.6 16.8a3 3 0 1 1-5.8-1.6'],
  pulse: ['M22 12h-4l-3 9L9 3l-3 9H2'],
  lock: ['M5 11h14v10H5z', 'M8 11V7a4 4 0 0 1 8 0v4'],
  search: ['M11 18a7 7 0 1 0 0-14 7 7 0 0 0 0 14Z', 'm21 21-4.3-4.3'],
  download: ['M12 3v12', 'm7 10 5 5 5-5', 'M5 21h14'],
  snippet: ['M4 5h16', 'M4 10h16', 'M4 15h10', 'M4 20h7'],
};

/** Creates an SVG element (charts, icons) with attributes set one by one: nothing is parsed as markup. */
export function svgEl(tag, attrs = {}) {
  const node = document.createElementNS(SVG_NS, tag);
  for (const [name, value] of Object.entries(attrs)) node.setAttribute(name, String(value));
  return node;
}

/** An inline icon, hidden from assistive technology (its button carries the label). */
export function icon(name) {
  const svg = document.createElementNS(SVG_NS, 'svg');
  svg.setAttribute('viewBox', '0 0 24 24');
  svg.setAttribute('aria-hidden', 'true');
  svg.setAttribute('focusable', 'false');
  svg.setAttribute('class', 'icon');
  for (const d of ICONS[name] || []) {
    const path = document.createElementNS(SVG_NS, 'path');
    path.setAttribute('d', d);
    svg.append(path);
  }
  return svg;
}

/** Replaces a placeholder `<span data-icon="name">` in static markup with its icon. */
export function fillIcons(root = document) {
  for (const slot of root.querySelectorAll('[data-icon]')) {
    slot.replaceWith(icon(slot.dataset.icon));
  }
}

/**
 * Makes `parent`'s children match `items` in order, reusing the child whose `data-key` matches `key(item)`.
 * `create(item)` builds a new child; `update(node, item)` brings one up to date. Children that are no longer wanted
 * are removed first, so trimming the front of a long list moves nothing.
 */
export function reconcile(parent, items, { key, create, update }) {
  const keys = items.map(key);
  const wanted = new Set(keys);
  const existing = new Map();
  for (const child of [...parent.children]) {
    const k = child.dataset.key;
    if (k === undefined || !wanted.has(k) || existing.has(k)) child.remove();
    else existing.set(k, child);
  }
  let cursor = parent.firstElementChild;
  items.forEach((item, i) => {
    let node = existing.get(keys[i]);
    if (!node) {
      node = create(item);
      node.dataset.key = keys[i];
    }
    update(node, item);
    if (node === cursor) cursor = cursor.nextElementSibling;
    else parent.insertBefore(node, cursor);
  });
}

/** A stable small number (0–7) for a nickname, used to pick its colour. */
export function hue(nick) {
  let h = 0;
  for (const ch of String(nick).toLowerCase()) h = (h * 31 + ch.codePointAt(0)) >>> 0;
  return h % 8;
}

/** The first letter of a nickname, for its avatar. */
export function initial(nick) {
  const first = [...String(nick)][0] || '?';
  return first.toUpperCase();
}

/** Opens a `<dialog>` as a modal (or, where `showModal` is missing, just shows it). */
export function openModal(dialog) {
  if (dialog.open || dialog.hasAttribute('open')) return;
  if (typeof dialog.showModal === 'function') dialog.showModal();
  else dialog.setAttribute('open', '');
}

/** Closes a `<dialog>` opened with `openModal`. */
export function closeModal(dialog) {
  if (!dialog.open && !dialog.hasAttribute('open')) return;
  if (typeof dialog.close === 'function') dialog.close();
  else dialog.removeAttribute('open');
}
