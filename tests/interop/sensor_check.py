"""The device dashboard's sensor (examples/chat/dashboard.c) checked with Python `websockets`.

    sensor_check.py URL [--clients N] [--tolerance F] [--stall]

URL is the sensor endpoint (ws://HOST:PORT/sensor). Prints one line per check, "PASS name"
or "FAIL name: why", and exits 0 when all passed. Rates are measured against the host's
clock: a count within F (default 0.3) of the expected one passes. Leaves the device at
its starting rate with the output off. --stall adds a page that stops reading (needs a
path without deep buffers between the host and lwIP, such as TAP: through slirp, the
host's socket buffers take minutes of readings).
"""
import asyncio
import json
import socket
import sys
import time
import urllib.parse

import websockets

TIMEOUT = 10
URL = sys.argv[1] if len(sys.argv) > 1 else ""
ARGS = sys.argv[2:]
CLIENTS = int(ARGS[ARGS.index("--clients") + 1]) if "--clients" in ARGS else 4
TOLERANCE = float(ARGS[ARGS.index("--tolerance") + 1]) if "--tolerance" in ARGS else 0.3
STALL = "--stall" in ARGS
failed = 0


async def connect():
    """A connection and the device's hello (its state)."""
    ws = await asyncio.wait_for(websockets.connect(URL, ping_interval=None), TIMEOUT)
    hello = json.loads(await asyncio.wait_for(ws.recv(), TIMEOUT))
    assert hello.get("hello") == "sensor", f"first message {hello}"
    return ws, hello


async def readings(ws, seconds):
    """The readings that arrive within `seconds` (other messages are left out)."""
    got = []
    end = time.monotonic() + seconds
    while (left := end - time.monotonic()) > 0:
        try:
            m = json.loads(await asyncio.wait_for(ws.recv(), left))
        except asyncio.TimeoutError:
            break
        if "seq" in m:
            got.append(m)
    return got


async def command(ws, text, key="ack"):
    """Sends a command; returns the device's answer with `key` (readings in between are
    skipped; at most 2000 messages or TIMEOUT seconds)."""
    await ws.send(text)
    end = time.monotonic() + TIMEOUT
    for _ in range(2000):
        m = json.loads(await asyncio.wait_for(ws.recv(), max(0.1, end - time.monotonic())))
        if key in m:
            return m
    raise AssertionError(f"no {key} for {text!r}")


async def announced(ws):
    """The next state announcement (readings in between are skipped)."""
    end = time.monotonic() + TIMEOUT
    for _ in range(2000):
        m = json.loads(await asyncio.wait_for(ws.recv(), max(0.1, end - time.monotonic())))
        if "state" in m:
            return m
    raise AssertionError("no state announcement")


def in_order(got):
    seqs = [m["seq"] for m in got]
    assert seqs == list(range(seqs[0], seqs[0] + len(seqs))), "sequence numbers not consecutive"
    assert all(b["ms"] >= a["ms"] for a, b in zip(got, got[1:])), "device time goes back"
    assert all(0 < m["v"] < 40 for m in got), "value out of the sensor's range"


def near(count, want, what):
    assert abs(count - want) <= TOLERANCE * want, f"{what}: {count}, expected about {want}"


async def check_readings():
    ws, hello = await connect()
    async with ws:
        rate = hello["rate"]
        await readings(ws, 0.3)  # settle after the connection
        got = await readings(ws, 2.0)
        assert got, "no readings"
        in_order(got)
        near(len(got), 2 * rate, f"readings in 2 s at {rate}/s")
        return f"{len(got)} readings in 2 s at {rate}/s, consecutive"


async def check_rate():
    ws, hello = await connect()
    async with ws:
        start = hello["rate"]
        new = 100 if start != 100 else 40
        ack = await command(ws, f"rate {new}")
        assert ack["ack"] == f"rate {new}" and ack["rate"] == new, f"ack {ack}"
        await readings(ws, 0.3)
        got = await readings(ws, 2.0)
        in_order(got)
        near(len(got), 2 * new, f"readings in 2 s at {new}/s")
        back = await command(ws, f"rate {start}")
        assert back["rate"] == start, f"ack {back}"
        return f"rate {start} -> {new} acknowledged, {len(got)} readings in 2 s"


async def check_output():
    ws, hello = await connect()
    async with ws:
        before = hello["output"]
        ack = await command(ws, "toggle")
        assert ack["output"] == (not before), f"toggle from {before}: {ack}"
        ack = await command(ws, "output 0")
        assert ack["ack"] == "output 0" and ack["output"] == 0, f"ack {ack}"
        return "toggle and output 0 acknowledged with the new state"


async def check_bad_commands():
    ws, _ = await connect()
    async with ws:
        for text in ("rate 0", "rate 201", "rate x", "fly"):
            err = await command(ws, text, "error")
            assert "help" in err, f"{text!r}: {err}"
        await readings(ws, 0.2)
        got = await readings(ws, 0.5)
        assert got, "no readings after bad commands"
        return "rate 0, rate 201, rate x, fly: each answered with an error, readings go on"


async def check_clients():
    conns = [await connect() for _ in range(CLIENTS)]
    try:
        rate = conns[0][1]["rate"]
        await asyncio.gather(*(readings(ws, 0.3) for ws, _ in conns))
        results = await asyncio.gather(*(readings(ws, 2.0) for ws, _ in conns))
        for got in results:
            in_order(got)
            near(len(got), 2 * rate, "readings of one client")
        # The same readings reach everyone: their sequence numbers overlap.
        first = max(got[0]["seq"] for got in results)
        last = min(got[-1]["seq"] for got in results)
        assert last - first > rate, f"shared readings {first}..{last}"
        # A command from one page is announced to the others.
        ack = await command(conns[0][0], "toggle")
        for ws, _ in conns[1:]:
            state = await announced(ws)
            assert state["output"] == ack["output"], f"state {state}, ack {ack}"
        await command(conns[0][0], "output 0")
        counts = ", ".join(str(len(got)) for got in results)
        return f"{CLIENTS} clients got {counts} readings in 2 s; the others saw the toggle"
    finally:
        for ws, _ in conns:
            await ws.close()


async def check_stalled():
    """A page that stops reading: its readings are dropped while its send queue is full
    (the gap shows in "seq"), they resume once it reads again, and another page gets
    every reading meanwhile."""
    url = urllib.parse.urlsplit(URL)
    sock = socket.socket()
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 2048)  # a small TCP window
    sock.settimeout(TIMEOUT)
    sock.connect((url.hostname, url.port or 80))
    sock.setblocking(False)
    stalled = await asyncio.wait_for(
        websockets.connect(URL, sock=sock, max_queue=1, ping_interval=None), TIMEOUT)
    good, hello = await connect()
    try:
        start = hello["rate"]
        await command(good, "rate 200")
        got = await readings(good, 8.0)  # meanwhile `stalled` reads nothing
        in_order(got)
        near(len(got), 8 * 200, "readings of the page that reads")
        seqs = []
        end = time.monotonic() + 30
        while time.monotonic() < end and (not seqs or seqs[-1] < got[-1]["seq"] + 100):
            m = json.loads(await asyncio.wait_for(stalled.recv(), TIMEOUT))
            if "seq" in m:
                seqs.append(m["seq"])
        lost = sum(b - a - 1 for a, b in zip(seqs, seqs[1:]))
        assert lost > 0, f"the stalled page lost no readings ({len(seqs)} arrived)"
        assert seqs[-1] >= got[-1]["seq"] + 100, "its readings did not resume"
        await command(good, f"rate {start}")
        return (f"the page that reads got all {len(got)}; the stalled one lost {lost} "
                f"readings, then its readings resumed")
    finally:
        await stalled.close()
        await good.close()


async def case(name, coro):
    global failed
    try:
        detail = await asyncio.wait_for(coro, 60)
        print(f"PASS {name}: {detail}", flush=True)
    except Exception as e:  # noqa: BLE001 - every failure is reported the same way
        failed += 1
        print(f"FAIL {name}: {type(e).__name__}: {e}", flush=True)


async def main():
    await case("sensor-readings", check_readings())
    await case("sensor-rate", check_rate())
    await case("sensor-output", check_output())
    await case("sensor-bad-commands", check_bad_commands())
    await case("sensor-clients", check_clients())
    if STALL:
        await case("sensor-stalled-page", check_stalled())
    return 1 if failed else 0


if __name__ == "__main__":
    if not URL.startswith("ws"):
        print(__doc__)
        sys.exit(2)
    sys.exit(asyncio.run(main()))
