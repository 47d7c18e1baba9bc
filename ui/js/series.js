// Live data of one room (PROTOCOL.md §6.22, §7.23): the series its `data` events carry, each bounded to the newest
// MAX_POINTS, and who publishes them. Pure: events.js feeds it, view/live-chart.js draws it.
//
// Points are not stored by the server: it sends a room's newest 120 right after `joined`, then each new one live.
// So a room's live data starts over at every `joined` (events.js drops it there), and nothing here has to
// recognise a point it already holds.

/** Points kept per series: what the server keeps and replays, so a chart opened late looks like one open all along. */
export const MAX_POINTS = 120;
/** Series kept per room. One `publish` carries at most 8, but several publishers may each bring their own. */
export const MAX_SERIES = 16;
/** Publishers named in "from …", newest last. */
export const MAX_PUBLISHERS = 3;
/** A series name is 1–32 characters of one line (the server refuses others with `invalid_data`). */
const MAX_NAME_CHARS = 32;

/** An empty store. `rev` is bumped on every change, so the chart redraws only when something arrived. */
export function newLive() {
  return { series: new Map(), from: [], rev: 0, nextColour: 0 };
}

/** The `[name, value]` pairs of a `data` event's `points` that the chart can draw (finite numbers, sane names). */
export function validPoints(points) {
  if (!points || typeof points !== 'object' || Array.isArray(points)) return [];
  return Object.entries(points).filter(
    ([name, value]) =>
      typeof value === 'number' && Number.isFinite(value) && name.length > 0 && [...name].length <= MAX_NAME_CHARS && !/[\n\r]/.test(name),
  );
}

/** Appends `item`, dropping the oldest beyond `max`: the window a series keeps. */
export function pushBounded(list, item, max = MAX_POINTS) {
  list.push(item);
  if (list.length > max) list.splice(0, list.length - max);
  return list;
}

/** Makes room for one more series by dropping the one that has been quiet longest. */
function evictQuietest(live) {
  let quietest = null;
  for (const s of live.series.values()) {
    const last = s.points.length ? s.points[s.points.length - 1].ts : -Infinity;
    if (!quietest || last < quietest.last) quietest = { name: s.name, last };
  }
  if (quietest) live.series.delete(quietest.name);
}

/** Remembers who published, newest last, each once (nicknames compare case-insensitively). */
function notePublisher(live, from) {
  if (typeof from !== 'string' || !from) return;
  const i = live.from.findIndex((n) => n.toLowerCase() === from.toLowerCase());
  if (i === live.from.length - 1 && i >= 0) return;
  if (i >= 0) live.from.splice(i, 1);
  live.from.push(from);
  if (live.from.length > MAX_PUBLISHERS) live.from.shift();
}

/**
 * Adds a `data` event's points: `{ from, ts, points }`. A series keeps its colour (a number 0–7, in order of first
 * appearance) for as long as it is kept, so a line never changes colour under the reader. Returns how many points
 * were added.
 */
export function addData(live, ev) {
  const pairs = validPoints(ev && ev.points);
  if (!pairs.length) return 0;
  const ts = Number.isSafeInteger(ev.ts) ? ev.ts : Date.now();
  for (const [name, v] of pairs) {
    let s = live.series.get(name);
    if (!s) {
      if (live.series.size >= MAX_SERIES) evictQuietest(live);
      s = { name, colour: live.nextColour++ % 8, points: [] };
      live.series.set(name, s);
    }
    pushBounded(s.points, { ts, v });
  }
  notePublisher(live, ev.from);
  live.rev++;
  return pairs.length;
}

/** The newest point of a series, or null. */
export function latest(series) {
  return series.points.length ? series.points[series.points.length - 1] : null;
}

/** "from ticker", "from ticker and ana": who the chart's values come from. */
export function publishersText(live) {
  const names = live.from;
  if (!names.length) return '';
  if (names.length === 1) return `from ${names[0]}`;
  return `from ${names.slice(0, -1).join(', ')} and ${names[names.length - 1]}`;
}
