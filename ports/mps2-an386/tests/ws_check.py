"""WebSocket checks against the firmware in QEMU, with Python `websockets` as the peer.

    ws_check.py URL [--skip NAME]...

Runs each check on its own connection and prints one line per check: "PASS name" or
"FAIL name: why". Exit status 0 when every check passed. The server must echo text and
binary messages with their type, and close with CODE when it receives "close:CODE".
"""
import asyncio
import os
import sys

import websockets

TIMEOUT = 20


async def connect(url):
    return await asyncio.wait_for(
        websockets.connect(url, max_size=None, ping_interval=None, open_timeout=10), TIMEOUT
    )


async def check_text(url):
    async with await connect(url) as ws:
        msg = "hello from the host: \u00e9\u4e2d\U0001f600"
        await ws.send(msg)
        got = await asyncio.wait_for(ws.recv(), TIMEOUT)
        assert got == msg, f"echo {got!r}"


async def check_binary(url):
    async with await connect(url) as ws:
        data = bytes(range(256)) * 4
        await ws.send(data)
        got = await asyncio.wait_for(ws.recv(), TIMEOUT)
        assert isinstance(got, bytes), f"type {type(got).__name__}"
        assert got == data, "payload differs"


async def check_64k(url):
    async with await connect(url) as ws:
        data = os.urandom(65536)
        await ws.send(data)
        got = await asyncio.wait_for(ws.recv(), TIMEOUT)
        assert got == data, f"payload differs ({len(got)} bytes back)"
        text = "x" * 65536
        await ws.send(text)
        got = await asyncio.wait_for(ws.recv(), TIMEOUT)
        assert got == text, f"text differs ({len(got)} chars back)"


async def check_ping(url):
    async with await connect(url) as ws:
        waiter = await ws.ping(b"firmware?")
        await asyncio.wait_for(waiter, TIMEOUT)
        await ws.send("after ping")
        assert await asyncio.wait_for(ws.recv(), TIMEOUT) == "after ping"


async def check_close_by_server(url):
    ws = await connect(url)
    await ws.send("close:4001")
    try:
        got = await asyncio.wait_for(ws.recv(), TIMEOUT)
        raise AssertionError(f"got a message {got!r} instead of a close")
    except websockets.ConnectionClosed as e:
        # Codes other than 1000/1001 raise ConnectionClosedError; what matters is that
        # both close frames went through (the handshake completed) with 4001.
        assert e.rcvd is not None and e.sent is not None, f"no close handshake: {e}"
        assert e.rcvd.code == 4001, f"close code {e.rcvd.code}"
    assert ws.close_code == 4001, f"close code {ws.close_code}"


async def check_close_by_client(url):
    ws = await connect(url)
    await ws.send("bye")
    assert await asyncio.wait_for(ws.recv(), TIMEOUT) == "bye"
    await asyncio.wait_for(ws.close(code=4002, reason="done"), TIMEOUT)
    assert ws.close_code == 4002, f"close code echoed {ws.close_code}"


CHECKS = [
    ("text", check_text),
    ("binary", check_binary),
    ("64KiB", check_64k),
    ("ping", check_ping),
    ("close-by-server", check_close_by_server),
    ("close-by-client", check_close_by_client),
]


async def main(url, skip):
    failed = 0
    for name, check in CHECKS:
        if name in skip:
            print(f"SKIP {name}", flush=True)
            continue
        try:
            await asyncio.wait_for(check(url), 3 * TIMEOUT)
            print(f"PASS {name}", flush=True)
        except Exception as e:  # noqa: BLE001 - every failure is reported the same way
            failed += 1
            print(f"FAIL {name}: {type(e).__name__}: {e}", flush=True)
    return 1 if failed else 0


if __name__ == "__main__":
    args = sys.argv[1:]
    skipped = [args[i + 1] for i, a in enumerate(args[:-1]) if a == "--skip"]
    sys.exit(asyncio.run(main(args[0], skipped)))
