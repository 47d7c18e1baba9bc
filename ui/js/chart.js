// The live chart's geometry: the extent of the points on screen, linear scales into the plot box, the SVG path of
// each line, and the y axis labels. Pure numbers and strings, so Node tests check them; view/live-chart.js puts
// them into SVG elements.

/** Room around the plot inside the SVG, px: the y labels on the left, the time labels below. */
export const MARGIN = Object.freeze({ left: 48, right: 12, top: 10, bottom: 20 });

/**
 * The span of every point of `seriesList` (`[{ points: [{ ts, v }] }]`): `{ min, max, t0, t1, count }`, or null when
 * there is no point at all. Only the points kept (the window) count, so the axis follows what is on screen.
 */
export function extent(seriesList) {
  let min = Infinity;
  let max = -Infinity;
  let t0 = Infinity;
  let t1 = -Infinity;
  let count = 0;
  for (const s of seriesList) {
    for (const p of s.points) {
      if (p.v < min) min = p.v;
      if (p.v > max) max = p.v;
      if (p.ts < t0) t0 = p.ts;
      if (p.ts > t1) t1 = p.ts;
      count++;
    }
  }
  return count ? { min, max, t0, t1, count } : null;
}

/**
 * The y domain for an extent: its min and max, or, when every value is the same, a band around it (a flat line
 * then sits in the middle instead of dividing by zero).
 */
export function yDomain(ext) {
  if (!ext) return { min: 0, max: 1 };
  if (ext.max > ext.min) return { min: ext.min, max: ext.max };
  const pad = Math.abs(ext.min) * 0.1 || 1;
  return { min: ext.min - pad, max: ext.max + pad };
}

/**
 * A linear map from `[d0, d1]` onto `[r0, r1]`. An empty domain (one point in time) maps everything to `r1`: the
 * newest value belongs at the right edge.
 */
export function linear(d0, d1, r0, r1) {
  const span = d1 - d0;
  if (!(span > 0)) return () => r1;
  const k = (r1 - r0) / span;
  return (value) => r0 + (value - d0) * k;
}

/** The plot's box inside an SVG of `width` × `height`: `{ left, right, top, bottom }` in px. */
export function plotBox(width, height, margin = MARGIN) {
  const left = Math.min(margin.left, width / 2);
  const top = Math.min(margin.top, height / 2);
  return {
    left,
    right: Math.max(left + 1, width - margin.right),
    top,
    bottom: Math.max(top + 1, height - margin.bottom),
  };
}

/** The x (time) and y (value) scales of a chart of `seriesList` in `box`. */
export function scales(seriesList, box) {
  const ext = extent(seriesList);
  const { min, max } = yDomain(ext);
  return {
    ext,
    min,
    max,
    x: linear(ext ? ext.t0 : 0, ext ? ext.t1 : 0, box.left, box.right),
    // SVG's y grows downwards: the largest value is at the top.
    y: linear(min, max, box.bottom, box.top),
  };
}

const round1 = (n) => Math.round(n * 10) / 10;

/** An SVG path through `points` (`[{ ts, v }]`, oldest first) with scales `x` and `y`; '' for no point. */
export function linePath(points, x, y) {
  let d = '';
  for (let i = 0; i < points.length; i++) {
    d += `${i ? 'L' : 'M'}${round1(x(points[i].ts))} ${round1(y(points[i].v))}`;
  }
  return d;
}

/**
 * A value as the legend and the axis show it: as sent when it is short (a sensor's 21.5, the ticker's 0.4217),
 * otherwise to four decimals, or in exponent form when huge or tiny.
 */
export function formatValue(v) {
  if (!Number.isFinite(v)) return '';
  const plain = String(v);
  if (plain.length <= 8 && !plain.includes('e')) return plain;
  const abs = Math.abs(v);
  if (abs >= 1e7 || (abs > 0 && abs < 1e-3)) return v.toExponential(2);
  return String(Number(v.toFixed(abs >= 1000 ? 1 : 4)));
}

/** The y axis labels: `n` values spread evenly from `min` to `max` (top to bottom once scaled), with their text. */
export function yLabels(min, max, n = 3) {
  if (n < 2 || !(max > min)) return [{ value: min, text: formatValue(min) }];
  const labels = [];
  for (let i = 0; i < n; i++) {
    const value = min + ((max - min) * i) / (n - 1);
    // Four significant digits are plenty for an axis, and keep labels from overflowing the margin.
    labels.push({ value, text: formatValue(Number(value.toPrecision(4))) });
  }
  return labels;
}

/** "last 24 s", "last 3 min": the time the window spans, for the x axis. */
export function spanText(ext) {
  if (!ext || ext.t1 <= ext.t0) return '';
  const s = Math.round((ext.t1 - ext.t0) / 1000);
  if (s < 120) return `last ${Math.max(1, s)} s`;
  return `last ${Math.round(s / 60)} min`;
}
