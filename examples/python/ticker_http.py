#!/usr/bin/env python3
"""Publish a random number into a Parlor room every 0.2 s over plain HTTP, with Python's standard library only.

The host makes the token with `parlor-server bot add ticker`; the room must exist. Every client in the room draws
the values as a live line chart.

    python3 ticker_http.py --server http://127.0.0.1:7878 --room lab --token TOKEN
"""

import argparse
import json
import random
import time
import urllib.error
import urllib.parse
import urllib.request


def post(server, room, token, body):
    url = f"{server}/api/v1/rooms/{urllib.parse.quote(room)}/messages"
    request = urllib.request.Request(
        url,
        method="POST",
        data=json.dumps(body).encode(),
        headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"},
    )
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, json.loads(response.read() or b"null")
    except urllib.error.HTTPError as refused:
        return refused.code, json.loads(refused.read() or b"null")


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--server", default="http://127.0.0.1:7878")
    parser.add_argument("--room", default="lab")
    parser.add_argument("--token", required=True, help="a bot token from `parlor-server bot add NAME`")
    parser.add_argument("--every", type=float, default=0.2, help="seconds between values")
    parser.add_argument("--count", type=int, default=0, help="stop after this many (0: never)")
    parser.add_argument("--say", help="also post this text message first")
    args = parser.parse_args()

    if args.say:
        status, body = post(args.server, args.room, args.token, {"text": args.say})
        if status not in (200, 201):
            raise SystemExit(f"the message was refused ({status}): {body}")
    walk, sent = 0.0, 0
    while args.count == 0 or sent < args.count:
        value = random.random()
        walk += value - 0.5
        status, body = post(args.server, args.room, args.token,
                            {"points": {"random": round(value, 4), "walk": round(walk, 4)}})
        if status != 202:
            raise SystemExit(f"the points were refused ({status}): {body}")
        sent += 1
        time.sleep(args.every)
    print(f"TICKER OK {sent}", flush=True)


if __name__ == "__main__":
    main()
