"""End-to-end tests of the real Parlor desktop app, driven over WebDriver (tauri-driver + WebKitWebDriver).

Run inside `e2e/session.sh`, which provides a virtual display, a D-Bus session with an unlocked GNOME Keyring (the
Secret Service) and the dunst notification daemon. Each test starts the real app binary with its own config and data
directories, talks to a real `parlor-server` on a loopback port, and checks what a person would see, what the
notification daemon received, and what the keyring holds. Screenshots of the display go to the artifacts directory.

Secrets seen during the run (passwords, session tokens read back from the keyring, the device key) are collected,
and the last test checks that none of them reached a log or any file the app or the servers wrote.

The last line is libtest-style (`test result: ok. N passed; M failed; ...`) so `cargo xtask test` counts it.
"""

from __future__ import annotations

import argparse
import contextlib
import hashlib
import json
import os
import re
import shutil
import socket
import ssl
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
ACCOUNT_PASSWORD = "e2e-account-pass-4Kd9"
SERVICE = "org.parlor.Parlor"

# Strings inserted into the page, and sent as chat text, that would run script if the page let them.
SCRIPT_PAYLOAD = '<script>window.__pwned = "chat script"</script>'
HANDLER_PAYLOAD = '<img src="x-missing.png" onerror="window.__pwned = \'chat handler\'">'


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class Server:
    """A real parlor-server on a loopback port, protected by PASSWORD; with `--tls` it also speaks TLS, and `link` is
    its join link (`wss://…/ws#sha256=…`)."""

    def __init__(self, binary: str, workdir: Path, artifacts: Path, extra_args: tuple[str, ...] = (),
                 name: str = "server", bind: str = "127.0.0.1:0", restart: bool = False) -> None:
        self.data_dir = workdir / name
        # A restart appends to the same log, so the log check sees both runs.
        self.log = open(artifacts / f"{name}.log", "a" if restart else "w")
        env = dict(os.environ, PARLOR_PASSWORD=PASSWORD)
        self.process = subprocess.Popen(
            # No join code: the app under test hosts its own server on this computer, and answers it.
            [binary, "--bind", bind, "--data-dir", str(self.data_dir), "--log-level", "info", "--join-code-port", "0",
             *extra_args],
            stdout=subprocess.PIPE, stderr=self.log, text=True, env=env,
        )
        assert self.process.stdout is not None
        line = self.process.stdout.readline()
        match = re.search(r"(wss?)://([0-9.]+):(\d+)/ws(?:#sha256=([0-9a-f]{64}))?", line)
        if not match:
            raise RuntimeError(f"the server did not say where it listens: {line!r}")
        self.port = int(match.group(3))
        self.url = f"ws://{match.group(2)}:{self.port}/ws"
        self.link = match.group(0)
        self.fingerprint = match.group(4)

    def stop(self) -> None:
        self.process.terminate()
        self.process.wait(timeout=20)
        self.log.close()


def pinned_tls_socket(host: str, port: int, pin: str) -> ssl.SSLSocket:
    """A TLS connection that trusts exactly the certificate whose SHA-256 fingerprint is `pin` (a join link's), as
    the app does: no certificate authority vouches for a classroom server's self-signed certificate, the link does.
    The CA check is off because the fingerprint comparison below replaces it, before a byte of the protocol is sent."""
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    context.check_hostname = False
    context.verify_mode = ssl.CERT_NONE
    raw = socket.create_connection((host, port), timeout=10)
    tls = context.wrap_socket(raw, server_hostname=host)
    certificate = tls.getpeercert(binary_form=True)
    presented = hashlib.sha256(certificate or b"").hexdigest()
    if presented != pin:
        tls.close()
        raise ssl.SSLError(f"the server presented certificate {presented}, not the pinned {pin}")
    return tls


class PyClient:
    """A second participant: Python's websockets library speaking docs/PROTOCOL.md. With `sock`, over that already
    open (e.g. pinned TLS) connection."""

    def __init__(self, url: str, nick: str, password: str | None = None, sock: socket.socket | None = None) -> None:
        self._stack = contextlib.ExitStack()
        self.ws = self._stack.enter_context(ws_connect(url, open_timeout=10, sock=sock))
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
        """Waits for an event `match` accepts; a refusal fails."""
        def pick(event: dict[str, Any]) -> bool:
            if event.get("type") == "error":
                raise AssertionError(f"the server refused the Python client: {event}")
            return match(event)
        return self._next(what, pick, timeout)

    def expect_error(self, code: str, timeout: float = 30.0) -> dict[str, Any]:
        """Waits for a refusal with this code (other events are skipped; another refusal fails)."""
        def pick(event: dict[str, Any]) -> bool:
            if event.get("type") != "error":
                return False
            if event.get("code") != code:
                raise AssertionError(f"expected {code}, got {event}")
            return True
        return self._next(f"the refusal {code}", pick, timeout)

    def _next(self, what: str, pick: Callable[[dict[str, Any]], bool], timeout: float) -> dict[str, Any]:
        deadline = time.monotonic() + timeout
        while True:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise AssertionError(f"the Python client never received {what}")
            try:
                event = json.loads(self.ws.recv(timeout=remaining))
            except TimeoutError:
                continue
            if pick(event):
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
        self.install_browser()
        self.driver_process = subprocess.Popen(
            [self.args.driver, "--port", str(port), "--native-port", str(native_port),
             "--native-driver", self.args.native],
            stdout=self.log, stderr=subprocess.STDOUT, env=env,
        )
        self._wait_for_port(port)
        self.driver = self._session(f"http://127.0.0.1:{port}", self.application)
        ready = "return document.readyState === 'complete' && !!document.querySelector('#connect-screen')"
        self.driver.wait("the app window to load", lambda: self.driver.execute(ready), timeout=30)

    def install_browser(self) -> None:
        """Makes a stand-in the profile's default web browser, the way a desktop records one (a .desktop file and
        mimeapps.list, which xdg-open reads): it appends each URL it is asked to open to `opened-links.txt`."""
        script = self.profile / "browser.sh"
        script.parent.mkdir(parents=True, exist_ok=True)
        script.write_text(f'#!/bin/sh\nprintf "%s\\n" "$1" >> "{self.opened_links}"\n')
        script.chmod(0o755)
        applications = self.profile / "data" / "applications"
        applications.mkdir(parents=True, exist_ok=True)
        (applications / "parlor-test-browser.desktop").write_text(
            "[Desktop Entry]\nType=Application\nName=Test browser\n"
            f"Exec={script} %u\nMimeType=x-scheme-handler/http;x-scheme-handler/https;\n")
        config = self.profile / "config"
        config.mkdir(parents=True, exist_ok=True)
        (config / "mimeapps.list").write_text(
            "[Default Applications]\nx-scheme-handler/http=parlor-test-browser.desktop\n"
            "x-scheme-handler/https=parlor-test-browser.desktop\n")

    @property
    def opened_links(self) -> Path:
        return self.profile / "opened-links.txt"

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
    """The server password the app keeps for a profile."""
    return keyring_entry(f"{nick}@{url}")


def keyring_entry(account: str) -> str:
    """What the app keeps in the Secret Service under `account` ("" when nothing)."""
    result = subprocess.run(
        ["secret-tool", "lookup", "service", SERVICE, "username", account],
        capture_output=True, text=True, timeout=20,
    )
    return result.stdout.strip()


def hello_refusal(url: str, nick: str, auth: dict[str, str]) -> str:
    """The error code the server answers a `hello` with (or "" when it welcomes it)."""
    with ws_connect(url, open_timeout=10) as ws:
        ws.send(json.dumps({"type": "hello", "protocol": 1, "nick": nick, "password": PASSWORD, "auth": auth}))
        reply = json.loads(ws.recv(timeout=10))
    return reply.get("code", "") if reply.get("type") == "error" else ""


def dom_text(d: Driver, css: str) -> str:
    return d.execute("return document.querySelector(arguments[0])?.textContent.trim() ?? ''", css)


def notice_shown(d: Driver, pattern: str) -> bool:
    script = """return [...document.querySelectorAll('#messages li.notice')]
                  .some(li => new RegExp(arguments[0]).test(li.textContent));"""
    return bool(d.execute(script, pattern))


def grouped(fingerprint: str) -> str:
    return " ".join(fingerprint[i:i + 4] for i in range(0, len(fingerprint), 4))


class Suite:
    def __init__(self, args: argparse.Namespace) -> None:
        self.args = args
        self.work = Path(tempfile.mkdtemp(prefix="parlor-e2e-"))
        self.server = Server(args.server, self.work, args.artifacts)
        self.py = PyClient(self.server.url, "py", PASSWORD)
        self.py.join("lobby")
        self.app: App | None = None
        # Every secret the run handles, for the last test to look for where it must not be.
        self.secrets: dict[str, str] = {"server password": PASSWORD, "account password": ACCOUNT_PASSWORD}

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
        # The app sent this device's key, so the server keeps "ana" for this device; the key is in the keyring.
        d.wait("the identity line", lambda: dom_text(d, "#me-identity") == "Kept by this device")
        device_key = keyring_entry("device")
        assert re.fullmatch(r"[0-9a-f]{64}", device_key), "a 64-digit device key in the Secret Service"
        self.secrets["device key"] = device_key
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

    def test_the_content_security_policy_blocks_injected_script(self) -> None:
        d = self.app.driver if self.app else self.open_app("student", "chat")
        # What a bug that put text into the page as HTML would do: a script element, an inline event handler, markup
        # parsed by innerHTML. Without the CSP each of these runs; with it none may, and each is reported.
        d.execute("""
          window.__pwned = undefined;
          window.__violations = [];
          window.__imageFailed = false;
          document.addEventListener('securitypolicyviolation',
            (e) => window.__violations.push(`${e.violatedDirective} ${e.blockedURI}`));
          const script = document.createElement('script');
          script.textContent = 'window.__pwned = "script element"';
          document.body.append(script);
          const image = document.createElement('img');
          image.addEventListener('error', () => { window.__imageFailed = true; });
          image.setAttribute('onerror', 'window.__pwned = "inline handler"');
          image.setAttribute('src', 'x-missing.png');
          document.body.append(image);
          const holder = document.createElement('div');
          holder.innerHTML = '<img src="y-missing.png" onerror="window.__pwned = \\'innerHTML\\'">';
          document.body.append(holder);""")
        violations = d.wait("securitypolicyviolation events for the script and the handlers",
                            lambda: (v := d.execute("return window.__violations")) and len(v) >= 2 and v)
        d.wait("the image to fail, so its inline handler had its chance",
               lambda: d.execute("return window.__imageFailed"))
        time.sleep(0.3)
        assert d.execute("return window.__pwned === undefined"), f"injected code ran: {d.execute('return window.__pwned')}"
        assert any("script-src" in v for v in violations), violations

        # The same payloads as chat messages from someone else: shown as text, never run.
        for payload in (SCRIPT_PAYLOAD, HANDLER_PAYLOAD):
            self.py.say("lobby", payload)
            d.wait(f"{payload!r} shown as text", lambda p=payload: message_shown(d, p, "py"))
        assert d.execute("return document.querySelectorAll('#messages script, #messages img').length === 0")
        time.sleep(0.3)
        assert d.execute("return window.__pwned === undefined"), f"a message ran: {d.execute('return window.__pwned')}"

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
        links = d.wait("the join links to share", lambda: d.execute(
            "return [...document.querySelectorAll('#host-urls li')].map(li => li.textContent.trim())"))
        parsed = [re.fullmatch(r"wss://[0-9.]+:(\d+)/ws#sha256=([0-9a-f]{64})", link) for link in links]
        assert all(parsed), f"every join link is wss:// with a fingerprint: {links}"
        assert len({(m.group(1), m.group(2)) for m in parsed}) == 1, f"one port and one certificate: {links}"
        port, pin = int(parsed[0].group(1)), parsed[0].group(2)
        assert dom_text(d, "#host-fingerprint") == grouped(pin), "the fingerprint to read aloud is the link's"
        d.wait_visible("#chat-screen", timeout=30)
        # Another participant joins over TLS, checking the certificate against the link's fingerprint. It dials
        # loopback: this test sends nothing to other addresses, and TLS is served on every address alike.
        try:
            pinned_tls_socket("127.0.0.1", port, "0" * 64).close()
        except ssl.SSLError:
            pass
        else:
            raise AssertionError("a certificate other than the pinned one was accepted")
        tls = pinned_tls_socket("127.0.0.1", port, pin)
        # ws:// because the socket is already TLS: websockets must not wrap it a second time.
        student = PyClient(f"ws://127.0.0.1:{port}/ws", "student", sock=tls)
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

    def test_the_host_locks_a_room_calls_on_a_raised_hand_and_runs_a_poll(self) -> None:
        d = self.open_app("moderator", "moderate")
        d.wait_visible("#connect-screen")
        d.type("#nick", "teacher")
        d.click("#host-btn")
        d.wait_visible("#host-dialog")
        d.click("#host-local-btn")
        d.wait_visible("#chat-screen", timeout=30)
        link = d.wait("the local address", lambda: d.execute(
            "const li = document.querySelector('#host-urls li'); return li && li.textContent.trim()"))
        port = int(re.fullmatch(r"ws://127\.0\.0\.1:(\d+)/ws", link).group(1))
        # The app that hosts passes the server's moderator token: its controls appear once the server agrees.
        d.wait_visible("#mod-controls", timeout=30)
        student = PyClient(f"ws://127.0.0.1:{port}/ws", "student")
        try:
            student.join("lobby")
            d.click("#lock-timed-btn")
            state = student.expect("the lock", lambda e: e["type"] == "room_state" and e["locked"])
            assert state.get("by") == "teacher" and state.get("locked_until_ms"), state
            shown = d.wait("the countdown", lambda: re.fullmatch(
                r"Locked by teacher · unlocks in [45]:\d\d · you can still write", dom_text(d, "#room-rules-text")))
            first = shown.group(0)
            screenshot(self.args, "app-lock-countdown")
            student.say("lobby", "may I?")
            refusal = student.expect_error("room_locked")
            assert refusal.get("client_id", "").startswith("py-"), refusal
            d.wait("the countdown to move", lambda: dom_text(d, "#room-rules-text") != first, timeout=10)
            assert not d.execute("return document.querySelector('#composer-input').disabled"), \
                "the moderator can still write"
            d.type("#composer-input", "read the task first" + ENTER)
            student.expect("the teacher's message", lambda e: e["type"] == "message" and e["text"] == "read the task first")
            d.click("#unlock-btn")
            student.expect("the unlock", lambda e: e["type"] == "room_state" and not e["locked"])
            student.say("lobby", "thank you")
            d.wait("the student's message after the unlock", lambda: message_shown(d, "thank you", "student"))
            assert notice_shown(d, "teacher unlocked the room")
            # The student raises a hand; the host sees the queue and calls on them.
            student.send({"type": "raise_hand", "room": "lobby", "raised": True})
            d.wait("the raised hand", lambda: dom_text(d, "#hands-text") == "Hands up: student")
            screenshot(self.args, "app-hands")
            d.click("#call-on-btn")
            called = student.expect("being called on", lambda e: e["type"] == "called_on")
            assert called["nick"] == "student" and called["by"] == "teacher", called
            student.expect("the hand lowered", lambda e: e["type"] == "hands" and e["raised"] == [])
            d.wait("the call on shown", lambda: notice_shown(d, "teacher called on student"))
            self.host_runs_a_poll(d, student)
            self.host_announces_and_mutes(d, student)
            self.host_exports_and_follows_a_link(d, student)
        finally:
            student.close()
        d.click("#host-stop-btn")
        # The token stays in its own file (0600): never in the app's log.
        token_files = list((self.work / "moderator").rglob("moderator-token"))
        assert token_files, "the hosted server wrote its moderator token"
        for path in token_files:
            assert path.stat().st_mode & 0o777 == 0o600, f"{path} is readable by others"
            token = path.read_text().strip()
            assert token not in (self.args.artifacts / "app-moderate.log").read_text(errors="replace")

    def host_runs_a_poll(self, d: Driver, student: PyClient) -> None:
        """The host creates a poll in the app; the Python student votes; the app's bar chart follows; the host
        closes it and the student sees the final results."""
        d.click("#poll-btn")
        d.wait_visible("#poll-dialog")
        d.type("#poll-question", "Which is prime?")
        for n, option in enumerate(("9", "11", "15"), start=1):
            if n > 2:
                d.click("#poll-add-option-btn")
            d.type(f"#poll-options li:nth-child({n}) input", option)
        d.click("#poll-submit-btn")
        poll = student.expect("the poll", lambda e: e["type"] == "message" and "poll" in e)
        assert poll["text"] == "Which is prime?" and poll["from"] == "teacher", poll
        assert [o["text"] for o in poll["poll"]["options"]] == ["9", "11", "15"], poll
        student.send({"type": "vote", "room": "lobby", "seq": poll["seq"], "choices": [1]})
        student.expect("the vote counted", lambda e: e["type"] == "message_updated" and e["seq"] == poll["seq"]
                       and e["poll"]["options"][1]["voters"] == ["student"])
        counts = (f"#messages li.message[data-seq='{poll['seq']}'] .poll-option[data-index='1'] .poll-count")
        d.wait("the bar chart to count the vote", lambda: dom_text(d, counts).startswith("1 vote"))
        width = d.execute(f"return document.querySelector(\"#messages li.message[data-seq='{poll['seq']}'] "
                          ".poll-option[data-index='1'] .poll-fill\").style.width")
        assert width == "100%", width
        screenshot(self.args, "app-poll")
        d.click(f"#messages li.message[data-seq='{poll['seq']}'] .poll-close-btn")
        closed = student.expect("the poll closed", lambda e: e["type"] == "message_updated"
                                and e["seq"] == poll["seq"] and e["poll"]["closed"])
        assert closed["poll"]["options"][1]["voters"] == ["student"], closed
        student.send({"type": "vote", "room": "lobby", "seq": poll["seq"], "choices": [0]})
        student.expect_error("poll_closed")

    def host_announces_and_mutes(self, d: Driver, student: PyClient) -> None:
        """An announcement the student acknowledges shows its tally in the app; the host mutes the student from the
        online list (their message is refused) and unmutes them."""
        d.click("#announce-toggle")
        d.type("#composer-input", "Test on Friday: bring a calculator" + ENTER)
        note = student.expect("the announcement", lambda e: e["type"] == "message" and "announcement" in e)
        assert note["text"] == "Test on Friday: bring a calculator" and note["announcement"]["acks"] == [], note
        tally = f"#messages li.message[data-seq='{note['seq']}'] .ack-tally"
        d.wait("the tally before", lambda: dom_text(d, tally).startswith("0 of 1"))
        student.send({"type": "acknowledge", "room": "lobby", "seq": note["seq"]})
        d.wait("the tally after the student read it", lambda: dom_text(d, tally) == "Read by the only other person here")
        screenshot(self.args, "app-announcement")
        d.click("#online-list li[data-nick='student'] .mute-btn")
        muted = student.expect("being muted", lambda e: e["type"] == "room_state" and e.get("muted") == ["student"])
        assert muted.get("by") == "teacher", muted
        student.say("lobby", "but sir")
        student.expect_error("muted")
        d.wait("the muted badge", lambda: d.execute(
            "return !!document.querySelector(\"#online-list li[data-nick='student'] .unmute-btn\")"))
        d.click("#online-list li[data-nick='student'] .unmute-btn")
        student.expect("being unmuted", lambda e: e["type"] == "room_state" and not e.get("muted"))
        student.say("lobby", "thank you, sir")
        d.wait("the student's message after the unmute", lambda: message_shown(d, "thank you, sir", "student"))

    def host_exports_and_follows_a_link(self, d: Driver, student: PyClient) -> None:
        """The host panel shows a join code; the host exports the room's transcript (with the poll's results) to a
        file; a link a student posts opens in the system browser, and the app's window stays on the app."""
        code = dom_text(d, "#host-join-code")
        assert re.fullmatch(r"[A-HJ-NP-Z2-9]{3}-[A-HJ-NP-Z2-9]{3}", code), code
        d.click("#export-btn")
        d.click("button.export-format[data-format='md']")
        saved = d.wait("the export notice", lambda: re.search(
            r"Transcript of #lobby saved: (\S+\.md)", dom_text(d, "#messages")))
        transcript = Path(saved.group(1)).read_text()
        assert "Which is prime?" in transcript and "- 11: 1 vote (100%) — student" in transcript, transcript
        assert Path(saved.group(1)).name.startswith("parlor-lobby-"), saved.group(1)
        student.say("lobby", "the worksheet: [page 12](https://example.org/worksheet?page=12) or javascript:alert(1)")
        d.wait("the link", lambda: d.execute("return !!document.querySelector('#messages a[href^=\"https://example.org\"]')"))
        assert not d.execute("return !!document.querySelector('#messages a[href^=\"javascript\"]')")
        d.click("#messages a[href^='https://example.org']")
        app = self.app
        d.wait("the system browser to get the link", lambda: app.opened_links.exists()
               and "https://example.org/worksheet?page=12" in app.opened_links.read_text())
        assert d.execute("return !!document.querySelector('#chat-screen')"), "the window still shows the app"

    def connect_form(self, d: Driver, url: str, nick: str, account_password: str = "", remember: bool = True) -> None:
        d.wait_visible("#connect-screen")
        for field, value in (("#server-url", url), ("#nick", nick), ("#password", PASSWORD),
                             ("#account-password", account_password)):
            d.clear(field)
            if value:
                d.type(field, value)
        if bool(d.execute("return document.querySelector('#remember').checked")) != remember:
            d.click("#remember")
        d.click("#connect-btn")

    def test_an_account_registers_signs_in_with_a_token_and_logs_out_everywhere(self) -> None:
        url, token_account = self.server.url, f"session:bea@{self.server.url}"
        d = self.open_app("member", "account")
        self.connect_form(d, url, "bea")
        d.wait_visible("#chat-screen", timeout=30)
        d.wait("bea kept by this device", lambda: dom_text(d, "#me-identity") == "Kept by this device")

        # Register: the password twice, then the server's token goes to the keyring, not to the page.
        d.click("#register-btn")
        d.wait_visible("#register-dialog")
        d.type("#register-password", ACCOUNT_PASSWORD)
        d.type("#register-password2", ACCOUNT_PASSWORD)
        d.click("#register-submit-btn")
        d.wait("bea registered", lambda: dom_text(d, "#me-identity") == "Registered account")
        assert not d.execute("return document.querySelector('#register-dialog').open"), "the dialog closed"
        registered = d.wait("the registration's token in the keyring", lambda: keyring_entry(token_account))
        self.secrets["token from registering"] = registered

        # Sign in with the password on a new connection: a new token replaces the stored one.
        d.click("#disconnect-btn")
        self.connect_form(d, url, "bea", account_password=ACCOUNT_PASSWORD)
        d.wait_visible("#chat-screen", timeout=30)
        d.wait("bea signed in", lambda: dom_text(d, "#me-identity") == "Registered account")
        signed_in = d.wait("the sign-in's token in the keyring",
                           lambda: (t := keyring_entry(token_account)) != registered and t)
        self.secrets["token from signing in"] = signed_in
        assert dom_text(d, "#account-password") == "" and not d.execute(
            "return document.querySelector('#account-password').value"), "the typed password left the page"

        # A restart signs in with the stored token alone: nothing typed, no password stored anywhere.
        d = self.open_app("member", "account-restart")
        d.wait_visible("#chat-screen", timeout=30)
        d.wait("bea signed in by token", lambda: dom_text(d, "#me-identity") == "Registered account")
        assert keyring_entry(token_account) == signed_in, "a token sign-in keeps its token"
        for secret in (registered, signed_in, ACCOUNT_PASSWORD):
            assert not d.execute("""const s = arguments[0];
              return document.documentElement.outerHTML.includes(s) ||
                Object.keys(localStorage).some(k => k.includes(s) || localStorage.getItem(k).includes(s));""",
                                 secret), "a secret reached the page"

        # Log out everywhere: every token is revoked and the stored one deleted.
        d.wait_visible("#logout-everywhere-btn")
        d.click("#logout-everywhere-btn")
        d.wait("the logout notice", lambda: notice_shown(d, "Logged out everywhere \\(2 sign-ins ended\\)"))
        d.wait("the token gone from the keyring", lambda: keyring_entry(token_account) == "")
        assert hello_refusal(url, "bea", {"token": signed_in}) == "wrong_credentials", "the token is revoked"

        # Without the password the server refuses, and the form says which field to fill in.
        d.click("#disconnect-btn")
        self.connect_form(d, url, "bea")
        d.wait("the refusal on the connect screen",
               lambda: "sign in with its password" in dom_text(d, "#connect-error"))
        assert "Password for my nickname" in dom_text(d, "#connect-error")
        assert d.execute("return document.activeElement.id") == "account-password"
        screenshot(self.args, "app-sign-in-required")

    def test_a_changed_certificate_is_refused_until_the_user_trusts_it(self) -> None:
        server = Server(self.args.server, self.work, self.args.artifacts, ("--tls",), name="tls-server")
        try:
            d = self.open_app("traveller", "certificate")
            self.connect_form(d, server.link, "cy", remember=False)
            d.wait_visible("#chat-screen", timeout=30)
            first = server.fingerprint
            # The host deletes the certificate and restarts: a new one, on the same address.
            server.stop()
            shutil.rmtree(server.data_dir / "tls")
            server = Server(self.args.server, self.work, self.args.artifacts, ("--tls",), name="tls-server",
                            bind=f"127.0.0.1:{server.port}", restart=True)
            assert server.fingerprint != first
            d.wait_visible("#trust-dialog", timeout=30)
            assert dom_text(d, "#trust-expected") == grouped(first)
            assert dom_text(d, "#trust-presented") == grouped(server.fingerprint)
            assert "different certificate" in dom_text(d, "#trust-reason")
            screenshot(self.args, "app-certificate-changed")
            # Refused until now: the app did not go online with the new certificate by itself.
            assert d.execute("return document.querySelector('#banner').textContent.includes('certificate changed')")
            d.click("#trust-accept-btn")
            d.wait("the dialog to close", lambda: not d.execute("return document.querySelector('#trust-dialog').open"))
            other = PyClient(server.url, "dee", PASSWORD)
            try:
                other.join("lobby")
                other.say("lobby", "trusted again")
                d.wait("a message over the newly trusted connection", lambda: message_shown(d, "trusted again", "dee"))
            finally:
                other.close()
            known = json.loads((self.work / "traveller" / "data" / "org.parlor.Parlor" / "outbox" /
                                "known-servers.json").read_text())
            assert known == {f"127.0.0.1:{server.port}": server.fingerprint}, known
        finally:
            server.stop()

    def test_no_secret_in_the_logs_or_files(self) -> None:
        if self.app:
            self.app.quit()
            self.app = None
        assert {"device key", "token from registering", "token from signing in"} <= set(self.secrets), self.secrets.keys()
        logs = list(self.args.artifacts.glob("*.log"))
        assert any(log.name.startswith("app-") for log in logs) and any(log.name == "server.log" for log in logs)
        for log in logs:
            text = log.read_text(errors="replace")
            for name, secret in self.secrets.items():
                assert secret not in text, f"the {name} appears in {log.name}"
        # Every file the app wrote (config, data, caches, WebKit's storage) and the servers' data directories.
        files = [path for path in self.work.rglob("*") if path.is_file()]
        assert any(path.name == "profiles.json" for path in files), "the app's files are among those searched"
        for path in files:
            data = path.read_bytes()
            for name, secret in self.secrets.items():
                assert secret.encode() not in data, f"the {name} appears in {path.relative_to(self.work)}"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--app", required=True, help="the app binary (target/debug/parlor)")
    parser.add_argument("--server", required=True, help="the server binary (target/debug/parlor-server)")
    parser.add_argument("--driver", default="tauri-driver")
    parser.add_argument("--native", default="/usr/bin/WebKitWebDriver")
    parser.add_argument("--artifacts", type=Path, default=Path("artifacts"))
    parser.add_argument("--only", default="", help="run only the tests whose name contains this (for debugging)")
    args = parser.parse_args()
    args.artifacts.mkdir(parents=True, exist_ok=True)

    suite = Suite(args)
    tests = [getattr(suite, name) for name in dir(Suite) if name.startswith("test_")]
    tests.sort(key=lambda t: t.__code__.co_firstlineno)
    filtered = len([t for t in tests if args.only not in t.__name__])
    tests = [t for t in tests if args.only in t.__name__]
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
    print(f"test result: {status}. {passed} passed; {failed} failed; 0 ignored; 0 measured; {filtered} filtered out")
    return 0 if failed == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
