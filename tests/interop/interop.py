"""Interop cases against a running build/examples/chat, with the `websockets` package.

    interop.py HOST PORT

The server must run with --max-message 2097152 (1 MiB messages). Every case prints a
line; the last line is "N passed, N failed"; the exit status is 1 when any failed.
Every network wait is bounded.
"""
import asyncio
import errno
import os
import socket
import sys

from websockets.asyncio.client import connect
from websockets.exceptions import ConnectionClosed

HOST, PORT = sys.argv[1], int(sys.argv[2])
BASE = f"ws://{HOST}:{PORT}"
T = 10  # seconds for any single wait
SIZES = [0, 1, 125, 126, 65535, 65536, 1 << 20]
KEY = "dGhlIHNhbXBsZSBub25jZQ=="
results = {"passed": 0, "failed": 0}


def report(name, ok, detail=""):
    results["passed" if ok else "failed"] += 1
    print(f"{'PASS' if ok else 'FAIL'} {name}{': ' + detail if detail and not ok else ''}",
          flush=True)


async def case(name, coro, timeout=60):
    try:
        await asyncio.wait_for(coro, timeout)
        report(name, True)
    except Exception as e:  # noqa: BLE001 - every failure is a reported case
        report(name, False, f"{type(e).__name__}: {e}")


# Source ports: each connection of a run uses a fresh one. The server closes TCP first,
# so lwIP holds each connection's 4-tuple in TIME_WAIT for 2 MSL, and lwIP 2.1.3 does
# not accept a new SYN on a 4-tuple in TIME_WAIT: a kernel that happens to pick the same
# ephemeral port again would see its connect time out. That is TCP on both ends, not
# what these tests are about, so they never reuse a port.
_next_port = [20000 + os.getpid() % 20000]


def source_port():
    _next_port[0] += 1
    return _next_port[0]


class ws:
    """An /echo (or path) client connection: `async with ws() as conn` or `await ws()`."""

    def __init__(self, path="/echo"):
        self.path = path

    async def open(self):
        for _ in range(20):  # skip ports some other program holds
            try:
                return await connect(BASE + self.path, open_timeout=T, close_timeout=T,
                                     max_size=4 << 20, ping_interval=None,
                                     local_addr=("0.0.0.0", source_port()))
            except OSError as e:
                if e.errno != errno.EADDRINUSE:
                    raise
        raise OSError("no free source port")

    def __await__(self):
        return self.open().__await__()

    async def __aenter__(self):
        self.conn = await self.open()
        return self.conn

    async def __aexit__(self, *exc):
        await self.conn.close()


async def recv(conn):
    return await asyncio.wait_for(conn.recv(), T)


async def echo(size, text):
    async with ws() as conn:
        msg = ("abcdefghijklmnopqrstuvwxyz" * (size // 26 + 1))[:size] if text \
            else os.urandom(size)
        await conn.send(msg)
        got = await recv(conn)
        assert type(got) is type(msg), f"type {type(got).__name__}"
        assert got == msg, f"{len(got)} bytes back, content differs"


async def ping():
    async with ws() as conn:
        for payload in (b"", b"hello", os.urandom(125)):
            waiter = await conn.ping(payload)  # resolves only on the matching pong
            await asyncio.wait_for(waiter, T)


async def client_close(code):
    conn = await ws()
    await conn.send("before close")
    assert await recv(conn) == "before close"
    await asyncio.wait_for(conn.close(code), T)
    assert conn.protocol.close_rcvd is not None, "no close frame from the server"
    assert conn.protocol.close_rcvd.code == code, f"server replied {conn.protocol.close_rcvd.code}"


async def server_close(code):
    conn = await ws()
    await conn.send(f"close:{code}")
    try:
        await recv(conn)
        raise AssertionError("a message instead of the close")
    except ConnectionClosed:
        pass
    assert conn.protocol.close_rcvd is not None and conn.protocol.close_rcvd.code == code, \
        f"got {conn.protocol.close_rcvd}"
    await asyncio.wait_for(conn.wait_closed(), T)


async def many(clients=50, messages=5):
    async def one(i):
        async with ws() as conn:
            for j in range(messages):
                text = f"client {i} message {j} " + "x" * (i * 37 % 300)
                await conn.send(text)
                assert await recv(conn) == text
                data = bytes([i, j]) * (j * 100)
                await conn.send(data)
                assert await recv(conn) == data
    await asyncio.gather(*(one(i) for i in range(clients)))


async def chat_broadcast():
    async with ws("/ws") as a, ws("/ws") as b:
        await a.send("hello everyone")
        assert await recv(a) == "hello everyone"
        assert await recv(b) == "hello everyone"


def raw_request(request, limit=1 << 16):
    """Sends request bytes, reads until the server closes; returns (response, closed)."""
    for _ in range(20):
        try:
            s = socket.create_connection((HOST, PORT), timeout=T,
                                         source_address=("0.0.0.0", source_port()))
            break
        except OSError as e:
            if e.errno != errno.EADDRINUSE:
                raise
    with s:
        try:
            s.sendall(request)
        except (BrokenPipeError, ConnectionResetError):
            pass  # the server may answer and close before reading all of a huge head
        data = b""
        try:
            while len(data) < limit:
                chunk = s.recv(4096)
                if not chunk:
                    return data, True
                data += chunk
        except ConnectionResetError:
            return data, True
        except socket.timeout:
            return data, False
    return data, False


def upgrade_request(method="GET", version="HTTP/1.1", path="/echo", drop=(), extra=None):
    headers = {"Host": f"{HOST}:{PORT}", "Upgrade": "websocket", "Connection": "Upgrade",
               "Sec-WebSocket-Key": KEY, "Sec-WebSocket-Version": "13"}
    for name in drop:
        del headers[name]
    headers.update(extra or {})
    lines = [f"{method} {path} {version}"] + [f"{k}: {v}" for k, v in headers.items()]
    return ("\r\n".join(lines) + "\r\n\r\n").encode()


def http_status(request, status, header=None, closed=True):
    async def run():
        data, was_closed = await asyncio.to_thread(raw_request, request)
        head = data.split(b"\r\n\r\n", 1)[0].decode("latin-1")
        first = head.split("\r\n", 1)[0]
        parts = first.split(" ")
        assert len(parts) >= 2 and parts[1] == str(status), f"status line {first!r}"
        if header:
            assert header.lower() in head.lower(), f"no {header!r} in {head!r}"
        if closed:
            assert was_closed, "connection still open"
        return head
    return run()


async def main():
    for text in (True, False):
        for size in SIZES:
            await case(f"{'text' if text else 'binary'} echo {size} bytes", echo(size, text))
    await case("ping payloads come back in pongs", ping())
    for code in (1000, 4001):
        await case(f"client closes with {code}, server replies {code}", client_close(code))
    await case("'close:4002' makes the server close with 4002", server_close(4002))
    await case("50 clients at once, 5 text + 5 binary echoes each", many(), timeout=120)
    await case("chat broadcasts to every /ws connection", chat_broadcast())

    bad = [
        ("valid upgrade request gets 101", upgrade_request(), 101, "Sec-WebSocket-Accept", False),
        ("POST gets 405", upgrade_request(method="POST"), 405, None, True),
        ("HTTP/1.0 gets 400", upgrade_request(version="HTTP/1.0"), 400, None, True),
        ("no Host gets 400", upgrade_request(drop=["Host"]), 400, None, True),
        ("no Upgrade gets 400", upgrade_request(drop=["Upgrade"]), 400, None, True),
        ("Upgrade: h2c gets 400", upgrade_request(extra={"Upgrade": "h2c"}), 400, None, True),
        ("no Connection: Upgrade gets 400",
         upgrade_request(extra={"Connection": "keep-alive"}), 400, None, True),
        ("no Sec-WebSocket-Key gets 400",
         upgrade_request(drop=["Sec-WebSocket-Key"]), 400, None, True),
        ("15-byte key gets 400",
         upgrade_request(extra={"Sec-WebSocket-Key": "AAAAAAAAAAAAAAAAAAAA"}), 400, None, True),
        ("non-base64 key gets 400",
         upgrade_request(extra={"Sec-WebSocket-Key": "!!!!!!!!!!!!!!!!!!!!!!=="}), 400, None,
         True),
        ("version 8 gets 426 with Sec-WebSocket-Version: 13",
         upgrade_request(extra={"Sec-WebSocket-Version": "8"}), 426,
         "Sec-WebSocket-Version: 13", True),
        ("request head over 4096 bytes gets 431",
         upgrade_request(extra={"X-Pad": "a" * 5000}), 431, None, True),
        ("GET / gets 200 text/html",
         f"GET / HTTP/1.1\r\nHost: {HOST}\r\n\r\n".encode(), 200, "Content-Type: text/html",
         True),
        ("GET /chat (the chat page) gets 200 text/html",
         f"GET /chat HTTP/1.1\r\nHost: {HOST}\r\n\r\n".encode(), 200,
         "Content-Type: text/html", True),
        ("unknown path gets 404",
         f"GET /nope HTTP/1.1\r\nHost: {HOST}\r\n\r\n".encode(), 404, None, True),
    ]
    for name, request, status, header, closed in bad:
        await case(name, http_status(request, status, header, closed), timeout=2 * T)

    print(f"{results['passed']} passed, {results['failed']} failed", flush=True)
    return 1 if results["failed"] else 0


if __name__ == "__main__":
    sys.exit(asyncio.run(main()))
