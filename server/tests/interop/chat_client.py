#!/usr/bin/env python3
"""Parlor interop client, written from docs/PROTOCOL.md alone (protocol version 1), never from the Rust sources.

It greets the server, joins a room, posts one message, checks its `ack` and the broadcast copy of its own message,
and waits for a given message from another client. Every event received is printed as one JSON line; on success the
last line is ``INTEROP OK``. Exit status: 0 success, 1 timeout or connection lost, 2 refused or a check failed.

    python3 chat_client.py --url ws://127.0.0.1:7878/ws --nick py --room lobby \\
        --send "hello from python" --expect-from rs --expect-text "hello from rust"

Needs only the standard library and ``websockets``.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
import uuid
from typing import Any, Callable

from websockets.exceptions import ConnectionClosed, WebSocketException

try:
    from websockets.asyncio.client import connect
except ImportError:  # websockets < 13 only has the legacy API
    from websockets import connect  # type: ignore[no-redef,attr-defined]

Event = dict[str, Any]


class Failed(Exception):
    """The run failed; ``status`` is the process exit status."""

    def __init__(self, status: int, reason: str) -> None:
        super().__init__(reason)
        self.status = status


class Session:
    """One connection. Remembers every event, so one that arrives while waiting for another is not lost."""

    def __init__(self, ws: Any, deadline: float) -> None:
        self.ws = ws
        self.deadline = deadline
        self.events: list[Event] = []

    async def send(self, request: Event | str) -> int:
        """Sends a request (a dict as JSON, a str verbatim); returns the index of the first event that can answer it."""
        frame = request if isinstance(request, str) else json.dumps(request, ensure_ascii=False)
        try:
            await self.ws.send(frame)
        except ConnectionClosed as exc:
            raise Failed(1, f"connection closed ({exc}) while sending {frame[:80]!r}") from None
        return len(self.events)

    async def wait_for(self, what: str, match: Callable[[Event], bool], start: int) -> Event:
        """Returns the first event from index ``start`` that ``match`` accepts; any other `error` event fails the run."""
        index = start
        while True:
            for event in self.events[index:]:
                index += 1
                if match(event):
                    return event
                if event.get("type") == "error":
                    raise Failed(2, f"server answered {event.get('code')}: {event.get('message')} (waiting for {what})")
            remaining = self.deadline - asyncio.get_running_loop().time()
            try:
                frame = await asyncio.wait_for(self.ws.recv(), max(remaining, 0))
            except TimeoutError:
                raise Failed(1, f"timed out waiting for {what}") from None
            except ConnectionClosed as exc:
                raise Failed(1, f"connection closed ({exc}) while waiting for {what}") from None
            try:
                event = json.loads(frame)
            except ValueError:
                raise Failed(2, f"server sent a frame that is not JSON: {frame[:80]!r}") from None
            print(json.dumps(event, ensure_ascii=False), flush=True)
            self.events.append(event)


def is_type(kind: str, **fields: Any) -> Callable[[Event], bool]:
    """A matcher for events of type ``kind`` whose listed fields have exactly the given values."""
    return lambda e: e.get("type") == kind and all(e.get(k) == v for k, v in fields.items())


async def run(args: argparse.Namespace) -> None:
    deadline = asyncio.get_running_loop().time() + args.timeout
    async with connect(args.url, open_timeout=args.timeout, max_size=2**20) as ws:
        s = Session(ws, deadline)
        mark = await s.send({"type": "hello", "protocol": 1, "nick": args.nick, "client": "parlor-interop-py/0.1"})
        welcome = await s.wait_for("welcome", is_type("welcome"), mark)
        if welcome.get("protocol") != 1:
            raise Failed(2, f"server speaks protocol {welcome.get('protocol')}, not 1")
        me = str(welcome["nick"]).lower()

        if args.check_errors:  # refused frames get an error event and the connection stays open
            for frame, code in (('{"type":"dance"}', "unknown_type"), ("not json", "bad_json")):
                mark = await s.send(frame)
                await s.wait_for(f"error {code} for {frame!r}", is_type("error", code=code), mark)
            mark = await s.send({"type": "ping", "nonce": "still-open"})
            await s.wait_for("pong after the refused frames", is_type("pong", nonce="still-open"), mark)

        mark = await s.send({"type": "join", "room": args.room})
        joined = await s.wait_for(f"joined {args.room}", lambda e: e.get("type") == "joined"
                                  and str(e.get("room")).lower() == args.room.lower(), mark)
        room = joined["room"]  # the server's (lowercase) form of the name

        client_id = str(uuid.uuid4())
        mark = await s.send({"type": "send", "room": room, "text": args.send, "client_id": client_id})
        ack = await s.wait_for(f"ack for client_id {client_id}", is_type("ack", client_id=client_id), mark)
        if not (isinstance(ack.get("seq"), int) and ack["seq"] > 0) or ack.get("duplicate") is not False:
            raise Failed(2, f"bad ack: {ack}")
        own = await s.wait_for("the broadcast of our own message", is_type("message", room=room, client_id=client_id),
                               mark)
        if (own.get("seq"), own.get("id"), own.get("text")) != (ack["seq"], ack["id"], args.send) \
                or str(own.get("from")).lower() != me:
            raise Failed(2, f"our broadcast message does not match the ack: {own}")

        peer = args.expect_from.lower()
        await s.wait_for(f"message from {args.expect_from} in {room}: {args.expect_text!r}",
                         lambda e: is_type("message", room=room, text=args.expect_text)(e)
                         and str(e.get("from")).lower() == peer, mark)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--url", required=True, help="chat endpoint, e.g. ws://127.0.0.1:7878/ws")
    parser.add_argument("--nick", default="py", help="nickname to use")
    parser.add_argument("--room", default="lobby", help="room to join")
    parser.add_argument("--send", required=True, help="text to post")
    parser.add_argument("--expect-from", required=True, help="nickname of the peer whose message to wait for")
    parser.add_argument("--expect-text", required=True, help="exact text of the peer's message")
    parser.add_argument("--timeout", type=float, default=20.0, help="seconds for the whole run")
    parser.add_argument("--check-errors", action="store_true", help="first check that bad frames get error events")
    args = parser.parse_args()
    try:
        asyncio.run(run(args))
    except Failed as exc:
        print(f"INTEROP FAILED: {exc}", file=sys.stderr)
        return exc.status
    except (OSError, TimeoutError, WebSocketException) as exc:
        print(f"INTEROP FAILED: could not connect to {args.url}: {exc!r}", file=sys.stderr)
        return 1
    print("INTEROP OK", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
