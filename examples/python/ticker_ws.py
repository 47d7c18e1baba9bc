#!/usr/bin/env python3
"""Publish a random number into a Parlor room every 0.2 s over WebSocket — the seed tutorial's live feed, as a bot.

Needs only the `websockets` library (pip install websockets). Every client in the room draws the values as a live
line chart. Without --token the bot is a guest named --nick; with a token from `parlor-server bot add NAME` it signs
in as that bot.

    python3 ticker_ws.py --url ws://127.0.0.1:7878/ws --room lab
"""

import argparse
import asyncio
import json
import random

import websockets


async def next_event(ws):
    """The next event, skipping nothing: the caller decides what matters."""
    return json.loads(await ws.recv())


async def run(args):
    async with websockets.connect(args.url) as ws:
        hello = {"type": "hello", "protocol": 1, "nick": args.nick, "client": "ticker_ws.py"}
        if args.token:
            hello["auth"] = {"token": args.token}
        await ws.send(json.dumps(hello))
        event = await next_event(ws)
        if event["type"] != "welcome":
            raise SystemExit(f"the server refused the bot: {event.get('message', event)}")
        # Make the room if it is new; `room_exists` is fine.
        await ws.send(json.dumps({"type": "create_room", "room": args.room}))
        await ws.send(json.dumps({"type": "join", "room": args.room}))
        while True:
            event = await next_event(ws)
            if event["type"] == "joined":
                break
            if event["type"] == "error" and event["code"] != "room_exists":
                raise SystemExit(f"cannot join {args.room}: {event['message']}")

        async def drain():
            # Read what the server sends (and so answer its pings); report refusals.
            async for frame in ws:
                event = json.loads(frame)
                if event["type"] == "error":
                    print(f"refused: {event['code']}: {event['message']}", flush=True)

        reader = asyncio.create_task(drain())
        walk = 0.0
        sent = 0
        while args.count == 0 or sent < args.count:
            value = random.random()
            walk += value - 0.5
            points = {"random": round(value, 4), "walk": round(walk, 4)}
            await ws.send(json.dumps({"type": "publish", "room": args.room, "points": points}))
            sent += 1
            await asyncio.sleep(args.every)
        reader.cancel()
        print(f"TICKER OK {sent}", flush=True)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--url", default="ws://127.0.0.1:7878/ws")
    parser.add_argument("--room", default="lab")
    parser.add_argument("--nick", default="ticker")
    parser.add_argument("--token", help="a bot token from `parlor-server bot add NAME`")
    parser.add_argument("--every", type=float, default=0.2, help="seconds between values")
    parser.add_argument("--count", type=int, default=0, help="stop after this many (0: never)")
    asyncio.run(run(parser.parse_args()))


if __name__ == "__main__":
    main()
