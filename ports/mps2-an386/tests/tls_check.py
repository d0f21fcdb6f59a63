"""https:// and wss:// checks against the TLS firmware in QEMU, with Python's `ssl` and
`websockets` as the peer, verifying the server against the test CA.

    tls_check.py HOST_PORT CA_PEM PAGE_FILE

HOST_PORT is the forwarded host port of the image's port 443; the certificate must be
issued for "localhost" by CA_PEM; PAGE_FILE is the page the image serves at "/". Runs
each check on its own connection and prints one line per check: "PASS name" or
"FAIL name: why". Exit status 0 when every check passed. Every wait is bounded.
"""
import asyncio
import os
import socket
import ssl
import sys
import time
import urllib.request

from websockets.asyncio.client import connect
from websockets.exceptions import ConnectionClosed

PORT, CA, PAGE = int(sys.argv[1]), sys.argv[2], sys.argv[3]
HOST = "localhost"
T = 20  # seconds for any single wait
URL = f"wss://{HOST}:{PORT}/echo"


def context():
    ctx = ssl.create_default_context(cafile=CA)
    ctx.check_hostname = True
    ctx.verify_mode = ssl.CERT_REQUIRED
    return ctx


def wss():
    return connect(URL, ssl=context(), max_size=None, ping_interval=None, open_timeout=T,
                   close_timeout=T)


def check_page():
    with open(PAGE, "rb") as f:
        want = f.read()
    with urllib.request.urlopen(f"https://{HOST}:{PORT}/", context=context(),
                                timeout=T) as r:
        assert r.status == 200, f"status {r.status}"
        got = r.read()
    assert got == want, f"page differs ({len(got)} bytes, want {len(want)})"


def check_untrusted():
    """Verification is real: without the test CA the handshake must fail."""
    ctx = ssl.create_default_context()
    try:
        with socket.create_connection(("127.0.0.1", PORT), timeout=T) as s:
            with ctx.wrap_socket(s, server_hostname=HOST):
                pass
    except ssl.SSLCertVerificationError:
        return
    raise AssertionError("a client without the test CA accepted the certificate")


async def check_text():
    async with wss() as ws:
        msg = "hello over TLS: \u00e9\u4e2d\U0001f600"
        await ws.send(msg)
        got = await asyncio.wait_for(ws.recv(), T)
        assert got == msg, f"echo {got!r}"
        assert ws.transport.get_extra_info("ssl_object").version() == "TLSv1.2"


async def binary(size):
    async with wss() as ws:
        data = os.urandom(size)
        await ws.send(data)
        got = await asyncio.wait_for(ws.recv(), T)
        assert isinstance(got, bytes), f"type {type(got).__name__}"
        assert got == data, f"payload differs ({len(got)} bytes back)"


async def check_ping():
    async with wss() as ws:
        pong = await ws.ping(b"tls-ping")
        await asyncio.wait_for(pong, T)


async def check_close_client():
    async with wss() as ws:
        await ws.close(4000, "bye")
        assert ws.close_code == 4000, f"close code {ws.close_code}"


async def check_close_server():
    async with wss() as ws:
        await ws.send("close:4001")
        try:
            await asyncio.wait_for(ws.recv(), T)
            raise AssertionError("a message instead of the close")
        except ConnectionClosed as e:
            assert e.rcvd is not None and e.rcvd.code == 4001, f"close {e.rcvd}"


def ends(payload):
    """Sends `payload` on a plain TCP connection to the TLS port: the image must end the
    connection (EOF or reset) within T seconds."""
    with socket.create_connection(("127.0.0.1", PORT), timeout=T) as s:
        s.sendall(payload)
        deadline = time.monotonic() + T
        while time.monotonic() < deadline:
            try:
                if not s.recv(4096):
                    return
            except ConnectionResetError:
                return
        raise AssertionError("the connection stayed open")


def check_plain_http():
    ends(b"GET / HTTP/1.1\r\nHost: localhost\r\n\r\n")


def check_random_bytes():
    ends(os.urandom(2048))


def client_hello():
    """The first flight of a real TLS client (Python's), without a socket."""
    inc, out = ssl.MemoryBIO(), ssl.MemoryBIO()
    obj = context().wrap_bio(inc, out, server_hostname=HOST)
    try:
        obj.do_handshake()
    except ssl.SSLWantReadError:
        pass
    return out.read()


def check_stalled_handshake():
    """Half a ClientHello, then silence: dropped at the image's 3 s handshake timeout."""
    hello = client_hello()
    assert len(hello) > 100, f"ClientHello of {len(hello)} bytes"
    started = time.monotonic()
    ends(hello[: len(hello) // 2])
    took = time.monotonic() - started
    assert took > 2, f"dropped after {took:.1f} s, before the handshake timeout"


CHECKS = [
    ("https-page", check_page),
    ("untrusted-refused", check_untrusted),
    ("wss-text", check_text),
    ("wss-binary-16KiB", lambda: binary(16384)),
    ("wss-binary-64KiB", lambda: binary(65536)),
    ("wss-ping", check_ping),
    ("wss-close-client-4000", check_close_client),
    ("wss-close-server-4001", check_close_server),
    ("bad-plain-http", check_plain_http),
    ("bad-random-bytes", check_random_bytes),
    ("stalled-handshake-dropped-at-timeout", check_stalled_handshake),
    ("wss-text-after-bad-input", check_text),
]


async def main():
    failed = 0
    for name, fn in CHECKS:
        try:
            r = fn()
            if asyncio.iscoroutine(r):
                await asyncio.wait_for(r, 2 * T)
            print(f"PASS {name}", flush=True)
        except Exception as e:  # noqa: BLE001 - every failure is a reported check
            failed += 1
            print(f"FAIL {name}: {type(e).__name__}: {e}", flush=True)
    return failed


if __name__ == "__main__":
    sys.exit(1 if asyncio.run(main()) else 0)
