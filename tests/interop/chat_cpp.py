"""The C++ chat (examples/chat-cpp) against real peers: three Python `websockets` clients
join with nicknames, every line reaches all of them in the order the server received it,
a leave is announced; then headless Chromium (when given) loads the page with
?nick=&say=, its line reaches the Python clients and a Python line reaches the page.

    chat_cpp.py HOST PORT [CHROMIUM]
Exits 0 when every check passed. Every wait is bounded.
"""

import asyncio
import os
import sys
import tempfile
import urllib.request

from websockets.asyncio.client import connect

TIMEOUT = 10
failures = 0


def check(cond, what):
    global failures
    print(("PASS " if cond else "FAIL ") + what, flush=True)
    if not cond:
        failures += 1


async def expect(ws, want):
    """Reads lines until `want` arrives (at most 50 lines, TIMEOUT s); returns the
    lines read before it, or None when it did not come."""
    before = []
    for _ in range(50):
        try:
            line = await asyncio.wait_for(ws.recv(), TIMEOUT)
        except (asyncio.TimeoutError, Exception):
            return None
        if line == want:
            return before
        before.append(line)
    return None


async def main(host, port, chromium):
    base = f"ws://{host}:{port}/chat"
    page = await asyncio.to_thread(
        lambda: urllib.request.urlopen(f"http://{host}:{port}/", timeout=TIMEOUT).read())
    check(b"Chat room" in page and b"/chat" in page, f"GET / serves the page ({len(page)} B)")

    names = ["ann", "bob", "cy"]
    clients = []
    for name in names:
        ws = await connect(base, open_timeout=TIMEOUT)
        await ws.send(name)
        clients.append(ws)
        # Everyone already in the room sees the join, the newcomer included.
        for other in clients:
            check(await expect(other, f"* {name} joined") is not None,
                  f"{names[clients.index(other)]} sees '* {name} joined'")

    await clients[0].send("hello all")
    for name, ws in zip(names, clients):
        check(await expect(ws, "ann: hello all") == [], f"{name} gets 'ann: hello all'")

    # Lines from two senders interleaved: each receiver sees the same order.
    for i in range(10):
        await clients[1].send(f"b{i}")
        await clients[2].send(f"c{i}")
    orders = []
    for ws in clients:
        got = []
        for _ in range(20):
            try:
                got.append(await asyncio.wait_for(ws.recv(), TIMEOUT))
            except Exception:
                break
        orders.append(got)
    check(len(orders[0]) == 20 and orders[0] == orders[1] == orders[2],
          "20 lines reach all three clients in one order")
    check([x for x in orders[0] if x.startswith("bob: ")] == [f"bob: b{i}" for i in range(10)]
          and [x for x in orders[0] if x.startswith("cy: ")] == [f"cy: c{i}" for i in range(10)],
          "each sender's lines keep their order")

    bad = await connect(base, open_timeout=TIMEOUT)
    await bad.send("no:colons")
    try:
        await asyncio.wait_for(bad.recv(), TIMEOUT)
        check(False, "a bad nickname is refused")
    except Exception:
        check(bad.close_code == 1008, f"a bad nickname is refused with 1008 ({bad.close_code})")

    await clients[2].close()
    for name, ws in zip(names[:2], clients[:2]):
        check(await expect(ws, "* cy left") == [], f"{name} sees '* cy left'")

    if chromium:
        await browser(host, port, chromium, clients[0])
    for ws in clients[:2]:
        await ws.close()
        check(ws.close_code == 1000, f"closed with 1000 ({ws.close_code})")


async def browser(host, port, chromium, ann):
    """Chromium joins as 'web' and says a line; ann answers once it has joined; the DOM
    Chromium dumps must show ann's answer."""
    with tempfile.TemporaryDirectory() as profile:
        url = f"http://{host}:{port}/?nick=web&say=hello%20from%20chromium"
        proc = await asyncio.create_subprocess_exec(
            chromium, "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run",
            "--disable-background-networking", "--disable-component-update",
            "--disable-sync", f"--user-data-dir={profile}", "--virtual-time-budget=5000",
            "--dump-dom", url,
            stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.DEVNULL)
        joined = await expect(ann, "* web joined")
        check(joined is not None, "ann sees '* web joined' (Chromium's page joined)")
        check(await expect(ann, "web: hello from chromium") == [],
              "ann gets Chromium's line 'web: hello from chromium'")
        await ann.send("hi web")
        try:
            out, _ = await asyncio.wait_for(proc.communicate(), 60)
        except asyncio.TimeoutError:
            proc.kill()
            out, _ = await proc.communicate()
        dom = out.decode(errors="replace")
        check("online as web" in dom, "the page says it is online")
        check("ann: hi web" in dom, "the page shows ann's answer 'ann: hi web'")
        if "ann: hi web" not in dom:
            print(dom[-1500:], file=sys.stderr)
        check(await expect(ann, "* web left") is not None, "ann sees '* web left'")


if __name__ == "__main__":
    asyncio.run(asyncio.wait_for(
        main(sys.argv[1], int(sys.argv[2]), sys.argv[3] if len(sys.argv) > 3 else None), 180))
    print("chat_cpp: " + ("all passed" if failures == 0 else f"{failures} failed"))
    sys.exit(1 if failures else 0)
