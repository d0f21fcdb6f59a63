"""The real peer of tests/freertos/app.c (Python `websockets`, through libslirp).

    peer.py PORT

Checks what four FreeRTOS tasks wrote concurrently: every message of every task arrives
whole (its payload recomputed here), each task's messages in its order, none missing,
on one connection and on 50; then drops a connection while tasks are blocked on it
(the application reports those results itself), then asks the application to quit.
Prints PASS/FAIL lines; exits 1 when anything failed.
"""

import asyncio
import base64
import os
import socket
import struct
import sys
import time

import websockets

PORT = int(sys.argv[1])
URL = f"ws://127.0.0.1:{PORT}"
WRITERS = 4
failures = 0


def report(ok, text):
    global failures
    if not ok:
        failures += 1
    print(("PASS " if ok else "FAIL ") + text, flush=True)


def expected(task, seq):
    length = (seq * 37 + task * 101) % 1500 + 1
    payload = "".join(chr(ord("a") + (task * 7 + seq + j) % 26) for j in range(length))
    return f"t{task} {seq} {payload}"


async def collect(ws, n, deadline):
    """Reads until every writer said "done"; returns (next seq per task, errors, dones)."""
    next_seq = [0] * WRITERS
    errors = []
    dones = {}
    last_task, switches = None, 0
    while len(dones) < WRITERS:
        left = deadline - time.monotonic()
        if left <= 0:
            errors.append(f"timeout with dones {sorted(dones)} and seqs {next_seq}")
            break
        msg = await asyncio.wait_for(ws.recv(), left)
        if not isinstance(msg, str):
            errors.append("binary message")
            continue
        if msg.startswith("done "):
            _, t, sent, rc = msg.split()
            dones[int(t[1:])] = (int(sent), int(rc))
            continue
        head = msg.split(" ", 2)
        task, seq = int(head[0][1:]), int(head[1])
        switches += last_task is not None and task != last_task
        last_task = task
        if not 0 <= task < WRITERS:
            errors.append(f"bad task {task}")
        elif seq != next_seq[task]:
            errors.append(f"task {task}: seq {seq} after {next_seq[task] - 1}")
            next_seq[task] = seq + 1
        elif msg != expected(task, seq):
            errors.append(f"task {task} seq {seq}: payload differs")
            next_seq[task] += 1
        else:
            next_seq[task] += 1
        if len(errors) > 5:
            break
    for t in range(WRITERS):
        if next_seq[t] != n:
            errors.append(f"task {t}: {next_seq[t]} of {n} messages")
        if dones.get(t) != (n, 0):
            errors.append(f"task {t}: done {dones.get(t)}")
    return errors, switches


async def one(n):
    async with websockets.connect(URL + "/one", max_queue=None) as ws:
        await ws.send(f"go {n}")
        errors, switches = await collect(ws, n, time.monotonic() + 60)
    report(not errors, f"one connection: 4 tasks x {n} messages, in order per task, intact "
           f"({switches} switches between tasks in arrival order)"
           + (f": {errors[:5]}" if errors else ""))


async def many(n, k):
    conns = []
    for _ in range(k):
        conns.append(await websockets.connect(URL + "/many", max_queue=None))
    await conns[0].send(f"go {n} {k}")
    deadline = time.monotonic() + 120
    results = await asyncio.gather(*(collect(ws, n, deadline) for ws in conns))
    for ws in conns:
        await ws.close()
    bad = [(i, e[:3]) for i, (e, _) in enumerate(results) if e]
    switches = sum(s for _, s in results)
    report(not bad, f"{k} connections: 4 tasks x {n} messages each, in order per task, "
           f"intact ({switches} switches between tasks)" + (f": {bad[:3]}" if bad else ""))


async def echo(count):
    """Sends `count` messages as fast as possible (text and binary, 0..20000 bytes) while
    reading the echoes: the application's read queue (8) fills and pauses reading."""
    msgs = []
    for i in range(count):
        size = (i * 7919) % 20000 if i % 10 == 0 else (i * 131) % 700
        body = bytes((i + j) % 251 for j in range(size))
        msgs.append(body if i % 2 else body.decode("latin-1").encode("ascii", "replace")
                    .decode("ascii"))
    async with websockets.connect(URL + "/echo", max_queue=None, max_size=None) as ws:
        async def send_all():
            for m in msgs:
                await ws.send(m)
        sender = asyncio.create_task(send_all())
        errors = []
        for i, m in enumerate(msgs):
            got = await asyncio.wait_for(ws.recv(), 30)
            if got != m:
                errors.append(f"message {i}: {type(got).__name__} {len(got)} bytes, sent "
                              f"{type(m).__name__} {len(m)}")
                break
        await sender
    report(not errors, f"echo through WSS_read/WSS_writeBlocking: {count} messages back in "
           "order, intact, kinds kept" + (f": {errors}" if errors else ""))


def block():
    """Starts the scenario on a raw socket that reads nothing, then resets it."""
    s = socket.socket()
    s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    s.settimeout(10)
    s.connect(("127.0.0.1", PORT))
    key = base64.b64encode(os.urandom(16)).decode()
    s.sendall((f"GET /block HTTP/1.1\r\nHost: 127.0.0.1:{PORT}\r\nUpgrade: websocket\r\n"
               f"Connection: Upgrade\r\nSec-WebSocket-Key: {key}\r\n"
               "Sec-WebSocket-Version: 13\r\n\r\n").encode())
    head = b""
    while b"\r\n\r\n" not in head and len(head) < 4096:
        head += s.recv(1)
    report(head.startswith(b"HTTP/1.1 101"), "block: upgrade answered 101")
    mask = os.urandom(4)
    body = bytes(b ^ mask[i % 4] for i, b in enumerate(b"go"))
    s.sendall(bytes([0x81, 0x80 | 2]) + mask + body)
    time.sleep(2.0)  # the writers fill every buffer and block; the reader waits
    s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    s.close()  # RST while tasks are blocked
    time.sleep(3.0)


async def destroy():
    """The application releases the connection while a task waits to read from it."""
    async with websockets.connect(URL + "/destroy") as ws:
        await ws.send("go")
        try:
            await asyncio.wait_for(ws.recv(), 10)
            ok, how = False, "a message arrived"
        except websockets.ConnectionClosed as e:
            ok, how = e.rcvd is None, f"closed without a close frame ({e})"
        except asyncio.TimeoutError:
            ok, how = False, "still open after 10 s"
    report(ok, f"destroy: the peer sees the connection dropped: {how}")


async def big():
    """One 1 MiB binary message; the application reads it in pieces and answers."""
    data = bytes(j % 251 for j in range(1024 * 1024))
    async with websockets.connect(URL + "/big", max_size=None) as ws:
        await ws.send(data)
        got = await asyncio.wait_for(ws.recv(), 60)
    report(got == f"big {len(data)} 0", f"big: 1 MiB message read in pieces by a task: {got!r}")


async def quit_app():
    for _ in range(3):  # the first attempt may meet a slow (sanitized) application
        try:
            async with websockets.connect(URL + "/quit", open_timeout=10) as ws:
                await asyncio.wait_for(ws.recv(), 5)
            return
        except websockets.ConnectionClosed:  # the application exits under the connection
            return
        except Exception:  # not answered in time: ask again
            continue


async def main():
    await one(300)
    await many(20, 50)
    await echo(500)
    await asyncio.get_running_loop().run_in_executor(None, block)
    await destroy()
    await big()
    await quit_app()


asyncio.run(main())
sys.exit(1 if failures else 0)
