"""A minimal W3C WebDriver client (standard library only) for driving the Parlor app through tauri-driver.

Only what the end-to-end tests use: sessions, finding elements by CSS, clicking, typing, reading text, and running
a script. WebKitWebDriver's screenshot endpoint hangs, so screenshots are taken of the X display instead.
"""

from __future__ import annotations

import http.client
import json
import time
import urllib.error
import urllib.request
from typing import Any, Callable

ELEMENT = "element-6066-11e4-a52e-4f735466cecf"
ENTER = "\ue007"


class WebDriverError(Exception):
    """The driver refused a command; the message is the driver's."""


class Driver:
    """One WebDriver session: one running app window."""

    def __init__(self, url: str, application: str, timeout: float = 60.0) -> None:
        self.url = url.rstrip("/")
        capabilities = {
            "capabilities": {
                "alwaysMatch": {"browserName": "wry", "tauri:options": {"application": application}}
            }
        }
        reply = self._call("POST", "/session", capabilities, timeout=timeout)
        self.session = reply["sessionId"] if "sessionId" in reply else reply["value"]["sessionId"]

    def _call(self, method: str, path: str, body: Any = None, timeout: float = 30.0) -> Any:
        data = None if body is None else json.dumps(body).encode()
        for attempt in (1, 2):
            request = urllib.request.Request(self.url + path, data=data, method=method)
            request.add_header("Content-Type", "application/json")
            try:
                with urllib.request.urlopen(request, timeout=timeout) as response:
                    payload = json.loads(response.read() or b"{}")
                break
            except urllib.error.HTTPError as err:
                detail = err.read().decode(errors="replace")
                raise WebDriverError(f"{method} {path}: {err.code} {detail}") from None
            except (http.client.RemoteDisconnected, ConnectionResetError):
                # tauri-driver forwards each command over a kept-alive connection to WebKitWebDriver, which closes
                # idle ones; after a pause (the test waiting on the keyring or a server) the forward can hit a
                # closed connection, and tauri-driver then drops ours without an answer ("SendRequest" in its
                # log): the command never reached the driver, so sending it once more is safe.
                if attempt == 2:
                    raise
        return payload.get("value", payload) if path != "/session" else payload

    def _session(self, method: str, path: str, body: Any = None) -> Any:
        return self._call(method, f"/session/{self.session}{path}", body)

    def quit(self) -> None:
        try:
            self._call("DELETE", f"/session/{self.session}", timeout=30)
        except (WebDriverError, OSError):
            pass

    def execute(self, script: str, *args: Any) -> Any:
        return self._session("POST", "/execute/sync", {"script": script, "args": list(args)})

    def find(self, css: str) -> str:
        return self._session("POST", "/element", {"using": "css selector", "value": css})[ELEMENT]

    def click(self, css: str) -> None:
        self._session("POST", f"/element/{self.find(css)}/click", {})

    def type(self, css: str, text: str) -> None:
        self._session("POST", f"/element/{self.find(css)}/value", {"text": text})

    def clear(self, css: str) -> None:
        self._session("POST", f"/element/{self.find(css)}/clear", {})

    def text(self, css: str) -> str:
        return self._session("GET", f"/element/{self.find(css)}/text")

    def wait(self, what: str, check: Callable[[], Any], timeout: float = 20.0) -> Any:
        """Polls `check` until it returns something truthy; fails with `what` after `timeout` seconds."""
        deadline = time.monotonic() + timeout
        last_error: Exception | None = None
        while time.monotonic() < deadline:
            try:
                result = check()
                if result:
                    return result
            except (WebDriverError, OSError) as err:
                last_error = err
            time.sleep(0.2)
        raise AssertionError(f"timed out waiting for {what}" + (f" (last error: {last_error})" if last_error else ""))

    def wait_visible(self, css: str, timeout: float = 20.0) -> None:
        # Not offsetParent: it is null for fixed-position elements such as an open modal dialog.
        script = """const e = document.querySelector(arguments[0]);
          if (!e || e.hidden) return false;
          const box = e.getBoundingClientRect();
          return box.width > 0 && box.height > 0 && getComputedStyle(e).visibility !== 'hidden';"""
        self.wait(f"{css} to be visible", lambda: self.execute(script, css), timeout)
