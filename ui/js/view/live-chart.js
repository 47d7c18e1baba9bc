// The live chart above the messages (`#live-chart`): one SVG line per series over the newest points of the room on
// screen, the y axis scaled to what is on screen with its labels, a legend with each series' latest value
// (`.series-legend`, entries `[data-series]`), who publishes, and a button that folds the plot away (the legend
// stays). Geometry comes from chart.js, the points from series.js.
//
// A ticker sends a point every 0.2 s, so drawing must stay cheap: main.js draws at most once per animation frame,
// and this view redraws only when the room's points (`live.rev`), the room, the plot's size or the fold changed. The
// SVG elements are made once and reused; each redraw only sets a few attributes. Names go in as text or attribute
// values, never as markup.

import { svgEl, el, reconcile, setText, show, attr } from './dom.js';
import { latest, publishersText } from '../series.js';
import { formatValue, linePath, plotBox, scales, spanText, yLabels } from '../chart.js';

/** The plot's size until the ResizeObserver measures it. */
const DEFAULT_SIZE = { width: 600, height: 150 };
/** Horizontal grid lines (and y labels): bottom, middle, top. */
const Y_LABELS = 3;

/**
 * Owns the chart panel. `els`: `{ panel, from, legend, hide, plot }`. `onChange()` asks main.js for a redraw (after
 * the plot is folded or resized).
 */
export function createLiveChart(els, { onChange }) {
  const svg = svgEl('svg', { class: 'chart', 'aria-hidden': 'true', focusable: 'false' });
  const grid = svgEl('g', { class: 'chart-grid' });
  const lines = svgEl('g', { class: 'chart-lines' });
  const dots = svgEl('g', { class: 'chart-dots' });
  const spanLabel = svgEl('text', { class: 'chart-x-label', 'text-anchor': 'start' });
  const nowLabel = svgEl('text', { class: 'chart-x-label', 'text-anchor': 'end' });
  nowLabel.textContent = 'now';
  svg.append(grid, lines, dots, spanLabel, nowLabel);
  els.plot.append(svg);

  // One horizontal rule and label per y step, made once.
  const rules = [];
  for (let i = 0; i < Y_LABELS; i++) {
    const line = svgEl('line', { class: 'chart-rule' });
    const label = svgEl('text', { class: 'chart-y-label', 'text-anchor': 'end', 'dominant-baseline': 'middle' });
    grid.append(line, label);
    rules.push({ line, label });
  }
  /** Series name → its `path` and its latest point's `circle`. */
  const drawn = new Map();
  /** Rooms whose plot the user folded away (the legend stays). */
  const folded = new Set();
  let size = { ...DEFAULT_SIZE };
  let shown = { key: null, live: null, rev: -1, width: 0, height: 0, folded: false };
  let key = null;

  if (typeof ResizeObserver === 'function') {
    new ResizeObserver(([entry]) => {
      const { width, height } = entry.contentRect;
      if (width > 0 && height > 0 && (Math.round(width) !== size.width || Math.round(height) !== size.height)) {
        size = { width: Math.round(width), height: Math.round(height) };
        onChange();
      }
    }).observe(els.plot);
  }

  els.hide.addEventListener('click', () => {
    if (!key) return;
    if (folded.has(key)) folded.delete(key);
    else folded.add(key);
    onChange();
  });

  function renderLegend(list) {
    reconcile(els.legend, list, {
      key: (s) => s.name,
      create: (s) =>
        el(
          'li',
          { class: 'series-entry', dataset: { series: s.name } },
          el('span', { class: `series-swatch series-c${s.colour}`, 'aria-hidden': 'true' }),
          el('span', { class: 'series-name', text: s.name }),
          el('span', { class: 'series-value' }),
        ),
      update: (li, s) => {
        // The same name in another room may have another colour.
        li.firstChild.setAttribute('class', `series-swatch series-c${s.colour}`);
        const last = latest(s);
        setText(li.lastChild, last ? formatValue(last.v) : '');
        li.dataset.points = String(s.points.length);
      },
    });
  }

  function renderPlot(list) {
    const { width, height } = size;
    attr(svg, 'viewBox', `0 0 ${width} ${height}`);
    const box = plotBox(width, height);
    const { ext, min, max, x, y } = scales(list, box);
    const labels = yLabels(min, max, Y_LABELS);
    rules.forEach(({ line, label }, i) => {
      const l = labels[i];
      // SVG elements have no `hidden` property: the presentation attribute hides them.
      attr(line, 'visibility', l ? null : 'hidden');
      attr(label, 'visibility', l ? null : 'hidden');
      if (!l) return;
      const yy = Math.round(y(l.value)) + 0.5; // On the pixel grid: a crisp 1 px rule.
      for (const [name, value] of [['x1', box.left], ['x2', box.right], ['y1', yy], ['y2', yy]]) line.setAttribute(name, value);
      label.setAttribute('x', box.left - 6);
      label.setAttribute('y', yy);
      setText(label, l.text);
    });
    spanLabel.setAttribute('x', box.left);
    spanLabel.setAttribute('y', height - 4);
    setText(spanLabel, spanText(ext));
    nowLabel.setAttribute('x', box.right);
    nowLabel.setAttribute('y', height - 4);

    const names = new Set(list.map((s) => s.name));
    for (const [name, d] of drawn) {
      if (names.has(name)) continue;
      d.path.remove();
      d.dot.remove();
      drawn.delete(name);
    }
    for (const s of list) {
      let d = drawn.get(s.name);
      if (!d) {
        d = {
          path: svgEl('path', { class: `series-line series-c${s.colour}`, 'data-series': s.name }),
          dot: svgEl('circle', { class: `series-dot series-c${s.colour}`, r: 3 }),
        };
        lines.append(d.path);
        dots.append(d.dot);
        drawn.set(s.name, d);
      }
      // The same name in another room may have another colour.
      d.path.setAttribute('class', `series-line series-c${s.colour}`);
      d.dot.setAttribute('class', `series-dot series-c${s.colour}`);
      d.path.setAttribute('d', linePath(s.points, x, y));
      d.path.setAttribute('data-points', s.points.length);
      const last = latest(s);
      if (last) {
        d.dot.setAttribute('cx', Math.round(x(last.ts) * 10) / 10);
        d.dot.setAttribute('cy', Math.round(y(last.v) * 10) / 10);
      }
    }
  }

  /** Draws the live data of conversation `roomKey` (hidden when it has none). */
  function render(state, roomKey) {
    key = roomKey;
    const live = roomKey ? state.live.get(roomKey) : null;
    const on = Boolean(live && live.series.size);
    show(els.panel, on);
    if (!on) {
      shown = { ...shown, key: null, live: null };
      return;
    }
    const isFolded = folded.has(roomKey);
    const same = shown.key === roomKey && shown.live === live && shown.rev === live.rev && shown.folded === isFolded &&
      shown.width === size.width && shown.height === size.height;
    if (same) return;
    const list = [...live.series.values()];
    setText(els.from, publishersText(live));
    renderLegend(list);
    show(els.plot, !isFolded);
    els.panel.classList.toggle('folded', isFolded);
    attr(els.hide, 'aria-expanded', String(!isFolded));
    setText(els.hide, isFolded ? 'Show chart' : 'Hide chart');
    if (!isFolded) renderPlot(list);
    shown = { key: roomKey, live, rev: live.rev, width: size.width, height: size.height, folded: isFolded };
  }

  return { render };
}
