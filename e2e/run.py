"""End-to-end tests of the real Parlor desktop app, driven over WebDriver (tauri-driver + WebKitWebDriver).

Run inside `e2e/session.sh`, which provides a virtual display, a D-Bus session with an unlocked GNOME Keyring (the
Secret Service) and the dunst notification daemon. Each test starts the real app binary with its own config and data
directories, talks to a real `parlor-server` on a loopback port, and checks what a person would see, what the
notification daemon received, and what the keyring holds. Screenshots of the display go to the artifacts directory.

The last line is libtest-style (`test result: ok. N passed; M failed; ...`) so `cargo xtask test` counts it.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import traceback
from pathlib import Path
from typing import Any, Callable

from websockets.sync.client import connect as ws_connect

from webdriver import ENTER, Driver, WebDriverError

PASSWORD = "e2e-server-password-7Qm"
SERVICE = "org.parlor.Parlor"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class Server:
    """A real parlor-server on a loopback port, protected by PASSWORD."""

    def __init__(self, binary: str, workdir: Path, artifacts: Path, extra_args: tuple[str, ...] = ()) -> None:
        self.log = open(artifacts / "server.log", "w")
        env = dict(os.environ, PARLOR_PASSWORD=PASSWORD)
        self.process = subprocess.Popen(
            [binary, "--bind", "127.0.0.1:0", "--data-dir", str(workdir / "server"), "--log-level", "info",
             *extra_args],
            stdout=subprocess.PIPE, stderr=self.log, text=True, env=env,
        )
        assert self.process.stdout is not None
        line = self.process.stdout.readline()
        match = re.search(r"ws://[0-9.:]+/ws", line)
        if not match:
            raise RuntimeError(f"the server did not say where it listens: {line!r}")
        self.url = match.group(0)

    def stop(self) -> None:
        self.process.terminate()
        self.process.wait(timeout=20)
        self.log.close()


class PyClient:
    """A second participant: Python's websockets library speaking docs/PROTOCOL.md."""

    def __init__(self, url: str, nick: str, password: str | None = None) -> None:
        self._stack = contextlib.ExitStack()
        self.ws = self._stack.enter_context(ws_connect(url, open_timeout=10))
        hello: dict[str, Any] = {"type": "hello", "protocol": 1, "nick": nick, "client": "e2e-python"}
        if password:
            hello["password"] = password
        self.send(hello)
        self.expect("welcome", lambda e: e["type"] == "welcome")
        self.count = 0

    def send(self, message: dict[str, Any]) -> None:
        self.ws.send(json.dumps(message))

    def say(self, room: str, text: str) -> None:
        self.count += 1
        self.send({"type": "send", "room": room, "text": text, "client_id": f"py-{time.time_ns()}-{self.count}"})

    def join(self, room: str) -> None:
        self.send({"type": "join", "room": room})
        self.expect(f"joined {room}", lambda e: e["type"] == "joined" and e["room"] == room)

    def expect(self, what: str, match: Callable[[dict[str, Any]], bool], timeout: float = 30.0) -> dict[str, Any]:
        deadline = time.monotonic() + timeout
        while True:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise AssertionError(f"the Python client never received {what}")
            try:
                event = json.loads(self.ws.recv(timeout=remaining))
            except TimeoutError:
                continue
            if event.get("type") == "error":
                raise AssertionError(f"the server refused the Python client: {event}")
            if match(event):
                return event

    def close(self) -> None:
        self._stack.close()


class App:
    """The real app in a WebDriver session, with its own config and data directories (a "profile")."""

    def __init__(self, args: argparse.Namespace, profile: Path, name: str) -> None:
        self.args, self.profile, self.name = args, profile, name
        self.application = str(Path(args.app).resolve())
        self.log_path = args.artifacts / f"app-{name}.log"
        self.log = open(self.log_path, "w")
        try:
            self._launch()
        except (AssertionError, WebDriverError, OSError) as err:
            # WebKitWebDriver sometimes drops its first session on a busy machine: relaunch once.
            print(f"  (the app did not come up: {err}; launching it again)", flush=True)
            self._stop()
            self._launch()

    def _launch(self) -> None:
        port, native_port = free_port(), free_port()
        env = dict(
            os.environ,
            XDG_CONFIG_HOME=str(self.profile / "config"),
            XDG_DATA_HOME=str(self.profile / "data"),
            XDG_CACHE_HOME=str(self.profile / "cache"),
            PARLOR_LOG="info",
        )
        self.driver_process = subprocess.Popen(
            [self.args.driver, "--port", str(port), "--native-port", str(native_port),
             "--native-driver", self.args.native],
            stdout=self.log, stderr=subprocess.STDOUT, env=env,
        )
        self._wait_for_port(port)
        self.driver = self._session(f"http://127.0.0.1:{port}", self.application)
        ready = "return document.readyState === 'complete' && !!document.querySelector('#connect-screen')"
        self.driver.wait("the app window to load", lambda: self.driver.execute(ready), timeout=30)

    @staticmethod
    def _wait_for_port(port: int) -> None:
        for _ in range(100):
            with socket.socket() as sock:
                if sock.connect_ex(("127.0.0.1", port)) == 0:
                    return
            time.sleep(0.1)
        raise RuntimeError("tauri-driver did not start")

    @staticmethod
    def _session(url: str, application: str) -> Driver:
        # Session creation sometimes stalls on a loaded machine: one retry, each with a timeout.
        try:
            return Driver(url, application, timeout=60)
        except (WebDriverError, OSError) as err:
            print(f"  (session creation failed once: {err}; retrying)")
            return Driver(url, application, timeout=90)

    def _stop(self) -> None:
        if getattr(self, "driver", None):
            self.driver.quit()
        self.driver_process.terminate()
        try:
            self.driver_process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            self.driver_process.kill()
        # The app allows one instance: a launch while the old one is still closing would only focus the old one.
        deadline = time.monotonic() + 20
        while running(self.application) and time.monotonic() < deadline:
            time.sleep(0.2)
        for pid in running(self.application):
            os.kill(pid, 9)

    def quit(self) -> None:
        self._stop()
        self.log.close()


def running(binary: str) -> list[int]:
    """Processes running `binary`."""
    pids = []
    for proc in Path("/proc").iterdir():
        try:
            if proc.name.isdigit() and os.readlink(proc / "exe") == binary:
                pids.append(int(proc.name))
        except OSError:
            continue
    return pids


def screenshot(args: argparse.Namespace, name: str) -> None:
    path = args.artifacts / f"{name}.png"
    subprocess.run(["import", "-window", "root", str(path)], check=True, timeout=30)
    print(f"  screenshot: {path}")


def message_shown(d: Driver, text: str, sender: str | None = None, acked: bool = True) -> bool:
    script = """
      const [text, sender, acked] = arguments;
      return [...document.querySelectorAll('#messages li.message')].some(li =>
        li.querySelector('.text')?.textContent === text &&
        (!sender || li.querySelector('.from')?.textContent === sender) &&
        (!acked || !li.classList.contains('pending')));"""
    return bool(d.execute(script, text, sender, acked))


def notifications() -> list[dict[str, str]]:
    """What dunst received: close what is on screen (moving it into the history), then read the history."""
    subprocess.run(["dunstctl", "close-all"], check=False, timeout=10)
    raw = subprocess.run(["dunstctl", "history"], capture_output=True, text=True, timeout=10, check=True).stdout
    found: list[dict[str, str]] = []

    def walk(node: Any) -> None:
        if isinstance(node, dict):
            if "summary" in node and isinstance(node["summary"], dict):
                found.append({key: str(value.get("data", "")) for key, value in node.items() if isinstance(value, dict)})
            else:
                for value in node.values():
                    walk(value)
        elif isinstance(node, list):
            for value in node:
                walk(value)

    walk(json.loads(raw))
    return found


def keyring_lookup(url: str, nick: str) -> str:
    result = subprocess.run(
        ["secret-tool", "lookup", "service", SERVICE, "username", f"{nick}@{url}"],
        capture_output=True, text=True, timeout=20,
    )
    return result.stdout.strip()


class Suite:
    def __init__(self, args: argparse.Namespace) -> None:
        self.args = args
        self.work = Path(tempfile.mkdtemp(prefix="parlor-e2e-"))
        self.server = Server(args.server, self.work, args.artifacts)
        self.py = PyClient(self.server.url, "py", PASSWORD)
        self.py.join("lobby")
        self.app: App | None = None

    def close(self) -> None:
        if self.app:
            self.app.quit()
        self.py.close()
        self.server.stop()
        shutil.rmtree(self.work, ignore_errors=True)

    def open_app(self, profile: str, name: str) -> Driver:
        if self.app:
            self.app.quit()
        self.app = App(self.args, self.work / profile, name)
        return self.app.driver

    def test_connect_and_chat_with_a_python_client(self) -> None:
        d = self.open_app("student", "chat")
        d.wait_visible("#connect-screen")
        d.clear("#server-url")
        d.type("#server-url", self.server.url)
        d.type("#nick", "ana")
        d.type("#password", PASSWORD)
        if not d.execute("return document.querySelector('#remember').checked"):
            d.click("#remember")
        d.click("#connect-btn")
        d.wait_visible("#chat-screen")
        d.wait("the lobby to be joined", lambda: d.execute(
            "return document.querySelector('#room-list li[data-room=\"lobby\"]') !== null"))
        self.py.expect("ana joining", lambda e: e["type"] == "member_joined" and e["nick"] == "ana")

        d.type("#composer-input", "hello from the app" + ENTER)
        d.wait("the app's own message, acknowledged", lambda: message_shown(d, "hello from the app", "ana"))
        self.py.expect("the app's message",
                       lambda e: e["type"] == "message" and e["from"] == "ana" and e["text"] == "hello from the app")

        self.py.say("lobby", "hello from python")
        d.wait("python's message in the app", lambda: message_shown(d, "hello from python", "py"))
        screenshot(self.args, "app-chat")

    def test_a_direct_message_raises_a_desktop_notification(self) -> None:
        d = self.app.driver if self.app else self.open_app("student", "chat")
        self.py.say("@ana", "psst, a direct message")
        self.app_wait_dm(d)
        shown = d.execute("return !!document.querySelector('#dm-list li[data-room=\"@py\"]')")
        assert shown, "the conversation with py is listed"
        received = []

        def arrived() -> bool:
            received[:] = notifications()
            return any("py" in n.get("summary", "") and "psst, a direct message" in n.get("body", "")
                       for n in received)

        d.wait("the notification in dunst's history", arrived, timeout=20)
        assert any(n.get("appname") == "Parlor" for n in received), received

    def app_wait_dm(self, d: Driver) -> None:
        d.wait("the DM conversation in the sidebar",
               lambda: d.execute("return !!document.querySelector('#dm-list li[data-room=\"@py\"]')"))

    def test_remember_me_keeps_the_password_in_the_keyring_and_reconnects(self) -> None:
        assert keyring_lookup(self.server.url, "ana") == PASSWORD, "the password is in the Secret Service"
        config = self.work / "student" / "config"
        for path in config.rglob("*"):
            if path.is_file():
                assert PASSWORD not in path.read_text(errors="replace"), f"the password leaked into {path}"
        d = self.open_app("student", "restart")
        # No typing: the restarted app connects with the remembered profile and the keyring's password.
        d.wait_visible("#chat-screen", timeout=30)
        self.py.expect("ana rejoining", lambda e: e["type"] == "member_joined" and e["nick"] == "ana")
        self.py.say("lobby", "welcome back")
        d.wait("a message after the restart", lambda: message_shown(d, "welcome back", "py"))

    def test_host_mode_starts_a_server_another_client_joins(self) -> None:
        d = self.open_app("teacher", "host")
        d.wait_visible("#connect-screen")
        d.type("#nick", "teacher")
        d.click("#host-btn")
        d.wait_visible("#host-dialog")
        d.click("#host-lan-btn")
        d.wait_visible("#host-panel", timeout=30)
        urls = d.wait("the addresses to share", lambda: d.execute(
            "return [...document.querySelectorAll('#host-urls li')].map(li => li.textContent.trim())"))
        ports = {int(m.group(1)) for url in urls if (m := re.search(r":(\d+)/ws$", url))}
        assert len(ports) == 1, f"one port in every address: {urls}"
        port = ports.pop()
        d.wait_visible("#chat-screen", timeout=30)
        # Another participant joins over loopback (this test sends nothing to other addresses).
        student = PyClient(f"ws://127.0.0.1:{port}/ws", "student")
        try:
            student.join("lobby")
            student.say("lobby", "hi teacher")
            d.wait("the student's message", lambda: message_shown(d, "hi teacher", "student"))
            d.type("#composer-input", "welcome, student" + ENTER)
            student.expect("the teacher's reply",
                           lambda e: e["type"] == "message" and e["text"] == "welcome, student")
            screenshot(self.args, "app-host")
        finally:
            student.close()
        d.click("#host-stop-btn")

    def test_no_secret_in_the_logs(self) -> None:
        if self.app:
            self.app.quit()
            self.app = None
        for log in self.args.artifacts.glob("*.log"):
            assert PASSWORD not in log.read_text(errors="replace"), f"the password appears in {log.name}"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--app", required=True, help="the app binary (target/debug/parlor)")
    parser.add_argument("--server", required=True, help="the server binary (target/debug/parlor-server)")
    parser.add_argument("--driver", default="tauri-driver")
    parser.add_argument("--native", default="/usr/bin/WebKitWebDriver")
    parser.add_argument("--artifacts", type=Path, default=Path("artifacts"))
    args = parser.parse_args()
    args.artifacts.mkdir(parents=True, exist_ok=True)

    suite = Suite(args)
    tests = [getattr(suite, name) for name in dir(Suite) if name.startswith("test_")]
    tests.sort(key=lambda t: t.__code__.co_firstlineno)
    passed = failed = 0
    try:
        for test in tests:
            print(f"e2e {test.__name__} ...", flush=True)
            started = time.monotonic()
            try:
                test()
            except Exception:  # noqa: BLE001 - every failure is reported, and the suite goes on
                failed += 1
                traceback.print_exc()
                print(f"e2e {test.__name__} FAILED ({time.monotonic() - started:.1f} s)", flush=True)
            else:
                passed += 1
                print(f"e2e {test.__name__} ok ({time.monotonic() - started:.1f} s)", flush=True)
    finally:
        suite.close()
    status = "ok" if failed == 0 else "FAILED"
    print(f"test result: {status}. {passed} passed; {failed} failed; 0 ignored; 0 measured; 0 filtered out")
    return 0 if failed == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
