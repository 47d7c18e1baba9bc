"""Figures of the real Parlor desktop app: launch time, memory and CPU at rest, and a 10,000-message room.

Run inside `e2e/session.sh` (a virtual display, D-Bus, keyring, notifications), on the release build:

    bash e2e/session.sh python3 e2e/bench_app.py --app target/release/parlor \\
        --server target/release/parlor-server --driver tauri-driver --out artifacts/bench/app.jsonl

What it measures, with the helpers of run.py (a real server on a loopback port, the real app over WebDriver):

1. Launch: the app logs `window ready: the UI made its first call ms=N` (from process start to the UI's first call,
   made right after its first render). The median of `--launches` fresh launches.
2. A room with `--messages` messages: a Python client fills `lobby` first (pipelined; the server runs with a high
   rate limit). Then: the time from clicking Connect to the newest message being in the DOM (and its frame begun);
   the memory of the app and its WebKit processes (every descendant of the app's process: summed VmRSS, and PSS,
   which counts shared pages once) just after, and after 5 s idle; idle CPU (utime + stime over 10 s, % of one
   core); paging back through the whole history ("Load older" until seq 1 is shown) with the most `li.message` in
   the DOM at any time; memory after that; and a scroll smoothness proxy: the list scrolled from bottom to top in
   50 steps, one per animation frame, and the intervals between frames (p50, p99).

Each figure is one JSON line in `--out` (with the machine: CPU model, cores, RAM, load average at the start); a
table goes to stdout. Everything stays on 127.0.0.1, and the whole run is bounded (about 5 minutes at most).
"""

from __future__ import annotations

import argparse
import datetime
import json
import math
import os
import platform
import random
import re
import shutil
import statistics
import sys
import tempfile
import time
from collections import defaultdict
from pathlib import Path
from typing import Any

from run import PASSWORD, App, PyClient, Server, running, screenshot
from webdriver import Driver

ANSI = re.compile(r"\x1b\[[0-9;]*m")
READY = re.compile(r"window ready: the UI made its first call.*?\bms=(\d+)")
CLOCK_TICKS = os.sysconf("SC_CLK_TCK")
ROOM = "lobby"
PAGING_BUDGET_S = 120  # An unbounded list slows down as it grows: stop there and report how far it got.
WORDS = ("the quick brown fox jumps over a lazy dog while the class reads chapter four and someone asks "
         "about the homework due on friday, the projector is warming up, please bring your notes").split()


# --- The machine and its processes ------------------------------------------------------------------------------

def machine() -> dict[str, Any]:
    model = ""
    with open("/proc/cpuinfo") as f:
        for line in f:
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    mem_kib = 0
    with open("/proc/meminfo") as f:
        for line in f:
            if line.startswith("MemTotal:"):
                mem_kib = int(line.split()[1])
    return {
        "cpu": model or platform.processor(),
        "cores": os.cpu_count(),
        "ram_gib": round(mem_kib / 1024 / 1024, 1),
        "kernel": platform.release(),
        "loadavg_1m_at_start": round(os.getloadavg()[0], 2),
    }


def processes() -> dict[int, dict[str, Any]]:
    """Every process: parent, name, and CPU time used so far (clock ticks)."""
    table = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            raw = (entry / "stat").read_text()
        except OSError:
            continue
        close = raw.rfind(")")
        rest = raw[close + 2:].split()
        table[int(entry.name)] = {"ppid": int(rest[1]), "comm": raw[raw.find("(") + 1:close],
                                  "cpu": int(rest[11]) + int(rest[12])}
    return table


def app_tree(app: App) -> tuple[list[int], dict[int, dict[str, Any]]]:
    """The app's process and all its descendants (WebKitWebProcess, WebKitNetworkProcess, any sandbox helper)."""
    table = processes()
    children: dict[int, list[int]] = defaultdict(list)
    for pid, info in table.items():
        children[info["ppid"]].append(pid)
    pids: list[int] = []
    stack = running(app.application)
    if not stack:
        raise RuntimeError("the app's process is not running")
    while stack:
        pid = stack.pop()
        if pid in table and pid not in pids:
            pids.append(pid)
            stack.extend(children[pid])
    return pids, table


def kib_field(path: Path, field: str) -> int:
    try:
        for line in path.read_text().splitlines():
            if line.startswith(field):
                return int(line.split()[1])
    except OSError:
        pass
    return 0


def memory(app: App) -> dict[str, Any]:
    """Summed VmRSS and PSS of the app's processes, in MiB, with each process."""
    pids, table = app_tree(app)
    each = []
    for pid in pids:
        rss = kib_field(Path(f"/proc/{pid}/status"), "VmRSS:")
        pss = kib_field(Path(f"/proc/{pid}/smaps_rollup"), "Pss:")
        each.append({"pid": pid, "name": table[pid]["comm"], "rss_mib": round(rss / 1024, 1),
                     "pss_mib": round(pss / 1024, 1)})
    return {"rss_mib": round(sum(p["rss_mib"] for p in each), 1),
            "pss_mib": round(sum(p["pss_mib"] for p in each), 1), "processes": each}


def idle_cpu(app: App, seconds: float) -> dict[str, Any]:
    """CPU used by the app's processes over `seconds` of doing nothing, in % of one core."""
    pids, before = app_tree(app)
    time.sleep(seconds)
    _, after = app_tree(app)
    each = {}
    for pid in pids:
        if pid in after and after[pid]["comm"] == before[pid]["comm"]:
            ticks = after[pid]["cpu"] - before[pid]["cpu"]
            each[f"{before[pid]['comm']}[{pid}]"] = round(100 * ticks / CLOCK_TICKS / seconds, 2)
    return {"percent": round(sum(each.values()), 2), "processes": each}


# --- The server's history ---------------------------------------------------------------------------------------

def fill(url: str, count: int) -> float:
    """Posts `count` messages of varied length to the lobby, pipelined in batches; returns the seconds it took."""
    rng = random.Random(7)
    client = PyClient(url, "filler", PASSWORD)
    started = time.monotonic()
    try:
        client.join(ROOM)
        sent = acked = 0
        while sent < count:
            batch = min(500, count - sent)
            for i in range(sent, sent + batch):
                words = " ".join(rng.choice(WORDS) for _ in range(rng.randint(2, 40)))
                client.say(ROOM, f"#{i + 1}: {words}")
            sent += batch
            while acked < sent:  # Read as we go: the server's replies must not back up.
                event = json.loads(client.ws.recv(timeout=60))
                if event.get("type") == "error":
                    raise RuntimeError(f"the server refused a message: {event}")
                if event.get("type") == "ack":
                    acked += 1
    finally:
        client.close()
    return time.monotonic() - started


# --- In the app's page ------------------------------------------------------------------------------------------

CONNECT_JS = """
const newest = arguments[0];
const bench = window.__parlorBench = { connect: null, dom: null };
const t0 = performance.now();
const found = () => document.querySelector(`#messages li.message[data-seq="${newest}"]`);
const observer = new MutationObserver(() => {
  if (bench.dom !== null || !found()) return;
  bench.dom = performance.now() - t0;
  observer.disconnect();
  requestAnimationFrame(() => { bench.connect = performance.now() - t0; });
});
observer.observe(document.body, { subtree: true, childList: true, attributes: true, attributeFilter: ['data-seq'] });
document.getElementById('connect-btn').click();
"""

PAGE_BACK_JS = """
const [bound, budgetMs] = arguments;
const p = window.__parlorBench.paging = { done: false, pages: 0, maxLi: 0, maxRows: 0, reachedStart: false, ms: 0,
                                          error: null };
const scroller = document.getElementById('scroller');
const list = document.getElementById('messages');
const button = document.getElementById('load-older-btn');
const first = () => { const li = list.querySelector('li.message[data-seq]'); return li ? Number(li.dataset.seq) : 0; };
const sample = () => {
  p.maxLi = Math.max(p.maxLi, list.querySelectorAll('li.message').length);
  p.maxRows = Math.max(p.maxRows, list.children.length);
};
const frame = () => new Promise((resolve) => requestAnimationFrame(resolve));
(async () => {
  const t0 = performance.now();
  try {
    while (p.pages < bound) {
      if (performance.now() - t0 > budgetMs) { p.error = `out of time after ${Math.round(budgetMs / 1000)} s`; break; }
      const before = first();
      sample();
      if (before === 1) { p.reachedStart = true; break; }
      scroller.scrollTop = 0;  // Where the button is; a windowed list also pages in by itself there.
      if (!button.hidden && !button.disabled) button.click();
      const deadline = performance.now() + 15000;
      while (first() === before && performance.now() < deadline) await frame();
      if (first() === before) { p.error = `no older page came after seq ${before}`; break; }
      p.pages++;
    }
  } catch (err) { p.error = String(err); }
  sample();
  p.ms = performance.now() - t0;
  p.done = true;
})();
"""

SCROLL_JS = """
const steps = arguments[0];
const s = window.__parlorBench.scroll = { done: false, intervals: [], liBefore: 0, liAfter: 0, error: null };
const scroller = document.getElementById('scroller');
const count = () => document.querySelectorAll('#messages li.message').length;
const frame = () => new Promise((resolve) => requestAnimationFrame(resolve));
(async () => {
  try {
    scroller.scrollTop = scroller.scrollHeight;
    await new Promise((resolve) => setTimeout(resolve, 1500));  // Whatever reaching the bottom loads, settles.
    s.liBefore = count();
    const from = scroller.scrollTop;
    let last = await frame();
    for (let i = 1; i <= steps; i++) {
      scroller.scrollTop = from * (1 - i / steps);
      const now = await frame();
      s.intervals.push(now - last);
      last = now;
    }
    s.liAfter = count();
  } catch (err) { s.error = String(err); }
  s.done = true;
})();
"""


def wait_page(d: Driver, key: str, what: str, timeout: float) -> dict[str, Any]:
    """Waits for the in-page task `key` of window.__parlorBench to finish."""
    return d.wait(what, lambda: d.execute(f"const r = window.__parlorBench.{key}; return r && r.done ? r : null"),
                  timeout=timeout)


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[max(0, math.ceil(p / 100 * len(ordered)) - 1)]


# --- The run ----------------------------------------------------------------------------------------------------

class Report:
    def __init__(self, out: Path, context: dict[str, Any]) -> None:
        self.out, self.context, self.rows = out, context, []
        out.parent.mkdir(parents=True, exist_ok=True)
        self.file = open(out, "w")

    def add(self, figure: str, value: Any, unit: str, note: str = "", **detail: Any) -> None:
        line = {"figure": figure, "value": value, "unit": unit, **detail, **self.context}
        self.file.write(json.dumps(line) + "\n")
        self.file.flush()
        self.rows.append((figure, value, unit, note))
        print(f"  {figure}: {value} {unit}  {note}", flush=True)

    def table(self) -> None:
        self.file.close()
        m = self.context["machine"]
        print(f"\nParlor app figures ({self.context['build']}; {m['cpu']}, {m['cores']} cores, {m['ram_gib']} GiB; "
              f"load {m['loadavg_1m_at_start']} at start)")
        width = max(len(r[0]) for r in self.rows)
        print(f"{'figure'.ljust(width)}  {'value':>10}  unit     note")
        for figure, value, unit, note in self.rows:
            print(f"{figure.ljust(width)}  {str(value):>10}  {unit:<7}  {note}")
        print(f"(one JSON line per figure in {self.out})")


def launch(args: argparse.Namespace, work: Path, name: str) -> tuple[App, int]:
    """A fresh app (its own empty profile); returns it and the launch time it logged."""
    app = App(args, work / name, name)
    deadline = time.monotonic() + 30
    while True:
        found = READY.findall(ANSI.sub("", app.log_path.read_text(errors="replace")))
        if found:
            return app, int(found[-1])  # The last: App relaunches once when the first launch does not come up.
        if time.monotonic() > deadline:
            app.quit()
            raise AssertionError(f"no 'window ready' line in {app.log_path}")
        time.sleep(0.2)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--app", required=True, help="the app binary (target/release/parlor)")
    parser.add_argument("--server", required=True, help="the server binary (target/release/parlor-server)")
    parser.add_argument("--driver", default="tauri-driver")
    parser.add_argument("--native", default="/usr/bin/WebKitWebDriver")
    parser.add_argument("--out", type=Path, default=Path("artifacts/bench/app.jsonl"))
    parser.add_argument("--artifacts", type=Path, help="logs (default: the folder of --out)")
    parser.add_argument("--messages", type=int, default=10000)
    parser.add_argument("--launches", type=int, default=3)
    parser.add_argument("--max-pages", type=int, default=400, help="bound on Load older clicks")
    args = parser.parse_args()
    args.artifacts = args.artifacts or args.out.parent
    args.artifacts.mkdir(parents=True, exist_ok=True)
    started = time.monotonic()

    context = {
        "machine": machine(),
        "build": str(Path(args.app).resolve()),
        "messages": args.messages,
        "at": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
    }
    report = Report(args.out, context)
    work = Path(tempfile.mkdtemp(prefix="parlor-bench-app-"))
    server = Server(args.server, work, args.artifacts, ("--rate-per-second", "100000", "--rate-burst", "100000"))
    app: App | None = None
    try:
        seconds = fill(server.url, args.messages)
        print(f"  (filled {ROOM} with {args.messages} messages in {seconds:.1f} s)", flush=True)

        # 1. Launch time: fresh launches; the last one stays up for the rest.
        samples = []
        for i in range(args.launches):
            app, ms = launch(args, work, f"launch-{i + 1}")
            samples.append(ms)
            if i + 1 < args.launches:
                app.quit()
                app = None
        report.add("launch_ms", statistics.median(samples), "ms", f"median of {samples}", samples=samples)
        assert app is not None
        d = app.driver

        # 2. Connect to the big room, then rest.
        d.wait_visible("#connect-screen")
        d.clear("#server-url")
        d.type("#server-url", server.url)
        d.type("#nick", "bench")
        d.type("#password", PASSWORD)
        d.execute(CONNECT_JS, args.messages)
        bench = d.wait("the newest message on screen",
                       lambda: d.execute("const b = window.__parlorBench; return b.connect !== null ? b : null"),
                       timeout=60)
        report.add("connect_to_newest_ms", round(bench["connect"]), "ms",
                   f"click on Connect → seq {args.messages} in the DOM ({round(bench['dom'])} ms) and its frame",
                   dom_ms=round(bench["dom"]))
        time.sleep(1)
        mem = memory(app)
        report.add("rss_after_connect_mib", mem["rss_mib"], "MiB", f"app + WebKit processes; PSS {mem['pss_mib']} MiB",
                   **mem)
        time.sleep(4)
        mem = memory(app)
        report.add("rss_idle_mib", mem["rss_mib"], "MiB", f"connected, 5 s idle; PSS {mem['pss_mib']} MiB", **mem)
        cpu = idle_cpu(app, 10)
        report.add("cpu_idle_percent", cpu["percent"], "%", "of one core, utime+stime over 10 s idle", **cpu)

        # 3. Page back through the whole history.
        d.execute(PAGE_BACK_JS, args.max_pages, PAGING_BUDGET_S * 1000)
        paging = wait_page(d, "paging", "paging back through the history", timeout=PAGING_BUDGET_S + 30)
        note = f"{paging['pages']} pages, " + ("reached seq 1" if paging["reachedStart"] else
                                               f"stopped: {paging['error'] or 'page bound'}")
        report.add("history_page_back_ms", round(paging["ms"]), "ms", note, pages=paging["pages"],
                   reached_start=paging["reachedStart"], error=paging["error"])
        report.add("max_li_message", paging["maxLi"], "li", f"most messages in the DOM while paging "
                   f"({paging['maxRows']} rows with day dividers)", max_rows=paging["maxRows"])
        screenshot(args, "bench-history")
        mem = memory(app)
        where = "all of it" if paging["reachedStart"] else f"{paging['pages']} pages of it"
        report.add("rss_after_history_mib", mem["rss_mib"], "MiB",
                   f"after paging through {where}; PSS {mem['pss_mib']} MiB", **mem)

        # 4. Scroll smoothness proxy.
        d.execute(SCROLL_JS, 50)
        scroll = wait_page(d, "scroll", "the scroll", timeout=60)
        if scroll["error"] or not scroll["intervals"]:
            raise AssertionError(f"the scroll failed: {scroll['error']}")
        frames = [round(x, 2) for x in scroll["intervals"]]
        note = f"50 steps bottom→top, {scroll['liBefore']}→{scroll['liAfter']} li; max {max(frames):.1f} ms"
        report.add("scroll_frame_p50_ms", round(percentile(frames, 50), 1), "ms", note, intervals=frames)
        report.add("scroll_frame_p99_ms", round(percentile(frames, 99), 1), "ms", "", intervals=frames)
    finally:
        if app:
            app.quit()
        server.stop()
        shutil.rmtree(work, ignore_errors=True)
    report.table()
    print(f"(took {time.monotonic() - started:.0f} s)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
