"""TLS against real peers: the C programs wss_server and wss_client (lwIP over libslirp)
against Python's `ssl` and `websockets`, and headless Chromium.

    peers.py BUILD_DIR CERT_DIR [--chromium PATH]

BUILD_DIR holds wss_server and wss_client (tests/tls/Makefile); CERT_DIR is made by
tests/tls/make-certs.sh. Every check prints one line (PASS/FAIL/SKIP NAME); the last line
is "N passed, N failed"; the exit status is 1 when any failed. Every wait is bounded and
every process started here is stopped by its PID.
"""
import asyncio
import base64
import errno
import json
import os
import random
import signal
import socket
import ssl
import subprocess
import sys
import tempfile
import time
import urllib.request

from websockets.asyncio.client import connect
from websockets.asyncio.server import serve
from websockets.exceptions import ConnectionClosed

BUILD, CERTS = sys.argv[1], sys.argv[2]
CHROMIUM = sys.argv[4] if len(sys.argv) > 4 and sys.argv[3] == "--chromium" else None
HANDSHAKE_TIMEOUT_MS = 2000
T = 10  # seconds for any single network wait
results = {"passed": 0, "failed": 0}


def report(name, ok, detail=""):
    results["passed" if ok else "failed"] += 1
    print(f"{'PASS' if ok else 'FAIL'} {name}{': ' + detail if detail and not ok else ''}",
          flush=True)


async def case(name, coro, timeout=60):
    """Runs one check; an exception or a timeout is its failure."""
    try:
        await asyncio.wait_for(coro, timeout)
        report(name, True)
    except Exception as e:  # noqa: BLE001 - every failure is a reported case
        report(name, False, f"{type(e).__name__}: {e}")


def check(cond, what):
    if not cond:
        raise AssertionError(what)


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


# Source ports: every connection uses a fresh one. lwIP keeps the 4-tuple of a connection
# it closed first in TIME_WAIT for 2 MSL and does not accept a new SYN on it, so a kernel
# that happens to pick the same ephemeral port again would see its connect time out (see
# tests/interop/interop.py). That is TCP, not TLS: these checks never reuse a port. The
# host keeps the ports of connections it closed first in TIME_WAIT too: each run starts
# at a random place and skips ports in use.
_next_port = [random.randrange(20000, 50000)]


def source_port():
    _next_port[0] += 1
    return _next_port[0]


async def wss(port, ctx=None, **kwargs):
    """A websockets client for wss://localhost:port/echo from a fresh source port."""
    for _ in range(20):  # skip ports some other program holds
        try:
            return await connect(f"wss://localhost:{port}/echo", ssl=ctx or verified_context(),
                                 open_timeout=30, close_timeout=T, max_size=None,
                                 ping_interval=None,
                                 local_addr=("127.0.0.1", source_port()), **kwargs)
        except OSError as e:
            if e.errno != errno.EADDRINUSE:
                raise
    raise OSError("no free source port")


def verified_context(cafile=os.path.join(CERTS, "ca.pem")):
    return ssl.create_default_context(cafile=cafile)


# --- the C server ---------------------------------------------------------------------

class CServer:
    """build/.../wss_server over slirp on 127.0.0.1:port; its stdout goes to a file."""

    def __init__(self, port):
        self.port = port
        self.log = tempfile.NamedTemporaryFile("w+", prefix="wss_server-", suffix=".log")
        self.proc = subprocess.Popen(
            [os.path.join(BUILD, "wss_server"), f"slirp:{port}:443", CERTS,
             "--handshake-timeout", str(HANDSHAKE_TIMEOUT_MS), "--seconds", "900"],
            stdout=self.log, stderr=subprocess.STDOUT)

    def text(self):
        with open(self.log.name) as f:
            return f.read()

    def lines(self):
        return self.text().splitlines()

    async def wait_line(self, pred, timeout=T, after=0):
        """The first line (from index `after`) that matches pred; fails after timeout."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            for line in self.lines()[after:]:
                if pred(line):
                    return line
            if self.proc.poll() is not None:
                raise AssertionError(f"the server exited ({self.proc.returncode})")
            await asyncio.sleep(0.05)
        raise AssertionError("no matching server line within %ss" % timeout)

    async def memory_check(self):
        after = len(self.lines())
        self.proc.send_signal(signal.SIGUSR1)
        line = await self.wait_line(lambda l: l.startswith("memory-check"), 30, after)
        check(line.startswith("memory-check ok"), "\n".join(self.lines()[after:]))

    def stop(self):
        """SIGTERM, then the exit status (SIGKILL after 60 s)."""
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(60)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        return self.proc.returncode


async def echo_once(port, text="fresh verified client"):
    async with await wss(port) as c:
        await c.send(text)
        got = await asyncio.wait_for(c.recv(), T)
        check(got == text, f"echo {got!r}")


# --- step 1: Python websockets over ssl against the TLS listener ------------------------

async def https_page(port):
    def get():
        with urllib.request.urlopen(f"https://localhost:{port}/", context=verified_context(),
                                    timeout=T) as r:
            return r.status, r.read()
    status, body = await asyncio.to_thread(get)
    check(status == 200 and b"<title>lwip-ws tls</title>" in body, f"{status} {body[:80]!r}")


async def untrusted_rejected(port):
    try:
        await echo_once_with(port, verified_context(os.path.join(CERTS, "self.pem")))
    except ssl.SSLCertVerificationError:
        return
    raise AssertionError("a client trusting another CA accepted the server")


async def echo_once_with(port, ctx):
    async with await wss(port, ctx) as c:
        await c.send("x")
        await asyncio.wait_for(c.recv(), T)


async def text_and_binary(port):
    async with await wss(port) as c:
        for text in ["", "hello tls", "ünïcødé ✓ " * 100]:
            await c.send(text)
            got = await asyncio.wait_for(c.recv(), T)
            check(got == text, f"text of {len(text)} chars came back as {got[:40]!r}")
        for size in [0, 1, 125, 126, 65535, 65536, 1 << 20]:
            data = random.randbytes(size)
            await c.send(data)
            got = await asyncio.wait_for(c.recv(), 30)
            check(got == data, f"binary of {size} bytes came back different")


async def ping_pong(port):
    async with await wss(port) as c:
        for payload in [b"", b"p", bytes(125)]:
            waiter = await c.ping(payload)
            await asyncio.wait_for(waiter, T)


async def client_close_4000(server, port):
    after = len(server.lines())
    c = await wss(port)
    await c.close(4000, "bye")
    rcvd = c.protocol.close_rcvd
    check(rcvd is not None and rcvd.code == 4000, f"the server answered {rcvd}")
    await server.wait_line(lambda l: l.startswith("close ") and l.endswith(" 4000"), T, after)


async def server_close_4001(server, port):
    after = len(server.lines())
    async with await wss(port) as c:
        await c.send("close:4001")
        try:
            await asyncio.wait_for(c.recv(), T)
            raise AssertionError("a message instead of the close")
        except ConnectionClosed as e:
            check(e.rcvd is not None and e.rcvd.code == 4001, f"closed with {e.rcvd}")
    await server.wait_line(lambda l: l.startswith("close ") and l.endswith(" 4001"), T, after)


async def concurrent_clients(server, port, n=50, messages=5):
    """n verified clients open at the same time, then all echo at once. They connect one
    after the other: slirp's host-forward socket listens with a backlog of 1 (`ss -tln`),
    and a burst of connects overflows the host kernel's accept queue, where a connection
    can wait out its SYN and data retransmissions for 30 s before slirp ever sees it (the
    plain ws:// example server shows the same through slirp)."""
    ctx = verified_context()
    conns = []
    try:
        for _ in range(n):
            conns.append(await wss(port, ctx))
        lines = server.lines()
        now_open = sum(l.startswith("open ") for l in lines) - \
            sum(l.startswith("close ") for l in lines)
        check(now_open >= n, f"the server has {now_open} connections open, not {n}")

        async def one(i, c):
            for k in range(messages):
                text = f"client {i} message {k}"
                await c.send(text)
                got = await asyncio.wait_for(c.recv(), 30)
                check(got == text, f"client {i} got {got!r}")
            data = random.randbytes(4096)
            await c.send(data)
            check(await asyncio.wait_for(c.recv(), 30) == data, f"client {i} binary")

        await asyncio.gather(*(one(i, c) for i, c in enumerate(conns)))
    finally:
        await asyncio.gather(*(c.close() for c in conns), return_exceptions=True)


# --- step 2: bad input from real sockets --------------------------------------------------

def raw_connect(port):
    for _ in range(20):
        try:
            s = socket.create_connection(("127.0.0.1", port), timeout=T,
                                         source_address=("127.0.0.1", source_port()))
            s.settimeout(T)
            return s
        except OSError as e:
            if e.errno != errno.EADDRINUSE:
                raise
    raise OSError("no free source port")


def wait_closed(s, limit):
    """Reads (and drops) whatever arrives until the server closes; the seconds it took.
    Fails when the connection is still open after `limit` seconds."""
    start = time.monotonic()
    s.settimeout(0.2)
    while time.monotonic() - start < limit:
        try:
            if not s.recv(65536):
                return time.monotonic() - start
        except socket.timeout:
            continue
        except ConnectionResetError:
            return time.monotonic() - start
    raise AssertionError(f"still open after {limit} s")


def rst_close(s):
    s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, b"\x01\x00\x00\x00\x00\x00\x00\x00")
    s.close()


async def garbage_is_dropped(port, data):
    def run():
        with raw_connect(port) as s:
            s.sendall(data)
            wait_closed(s, HANDSHAKE_TIMEOUT_MS / 1000 + 5)
    await asyncio.to_thread(run)


def record_client_handshake(port):
    """A real verified handshake driven through ssl.MemoryBIO: every byte the client sent,
    and the TLS records those bytes are made of (as (start, end) offsets)."""
    incoming, outgoing = ssl.MemoryBIO(), ssl.MemoryBIO()
    tls = verified_context().wrap_bio(incoming, outgoing, server_hostname="localhost")
    sent = b""
    with raw_connect(port) as s:
        for _ in range(100):
            try:
                tls.do_handshake()
                done = True
            except ssl.SSLWantReadError:
                done = False
            data = outgoing.read()
            if data:
                s.sendall(data)
                sent += data
            if done:
                break
            chunk = s.recv(65536)
            check(chunk, "the server closed during the recorded handshake")
            incoming.write(chunk)
        else:
            raise AssertionError("the recorded handshake did not finish")
    records, at = [], 0
    while at + 5 <= len(sent):
        end = at + 5 + int.from_bytes(sent[at + 3:at + 5], "big")
        records.append((at, end))
        at = end
    check(at == len(sent) and len(records) >= 3, f"records {records} of {len(sent)} bytes")
    return sent, records


async def handshake_cut_at_every_record(port):
    sent, records = await asyncio.to_thread(record_client_handshake, port)
    # Every record boundary (the whole flight included), and inside each record: in its
    # header and in its body.
    cuts = sorted({end for _, end in records} |
                  {start + 2 for start, _ in records} |
                  {(start + end) // 2 for start, end in records})

    def replay(n):
        with raw_connect(port) as s:
            s.sendall(sent[:n])
            s.settimeout(0.3)
            try:
                s.recv(65536)  # the server's flight, or its alert, or nothing
            except (socket.timeout, ConnectionResetError):
                pass
    for n in cuts:
        await asyncio.to_thread(replay, n)
    print(f"  (replayed {len(cuts)} prefixes of a {len(sent)}-byte, {len(records)}-record "
          f"client handshake)", flush=True)


def client_hello(port):
    """The first record a verified client sends (its ClientHello)."""
    incoming, outgoing = ssl.MemoryBIO(), ssl.MemoryBIO()
    tls = verified_context().wrap_bio(incoming, outgoing, server_hostname="localhost")
    try:
        tls.do_handshake()
    except ssl.SSLWantReadError:
        pass
    return outgoing.read()


async def stalled_handshake_dropped(port, send_hello):
    """A client that stops (after its ClientHello, or before any byte) is dropped at the
    listener's handshake timeout, not before and not much after."""
    def run():
        with raw_connect(port) as s:
            if send_hello:
                s.sendall(client_hello(port))
            took = wait_closed(s, HANDSHAKE_TIMEOUT_MS / 1000 + 5)
        lo = HANDSHAKE_TIMEOUT_MS / 1000 * 0.5
        check(took >= lo, f"dropped after {took:.2f} s, before the timeout")
        return took
    took = await asyncio.to_thread(run)
    print(f"  (dropped after {took:.2f} s; handshake timeout {HANDSHAKE_TIMEOUT_MS} ms)",
          flush=True)


async def half_closed_handshake_dropped(port, send_hello):
    """A client that sends its FIN mid-handshake (after its ClientHello, or before any
    byte) is closed at once, well before the handshake timeout."""
    def run():
        with raw_connect(port) as s:
            if send_hello:
                s.sendall(client_hello(port))
            s.shutdown(socket.SHUT_WR)
            took = wait_closed(s, HANDSHAKE_TIMEOUT_MS / 1000 + 5)
        check(took < HANDSHAKE_TIMEOUT_MS / 1000 / 2, f"closed only after {took:.2f} s")
    await asyncio.to_thread(run)


def websocket_over_tls(port):
    """A verified TLS socket that has done the WebSocket upgrade for /echo."""
    raw = raw_connect(port)
    tls = verified_context().wrap_socket(raw, server_hostname="localhost")
    key = base64.b64encode(os.urandom(16)).decode()
    tls.sendall((f"GET /echo HTTP/1.1\r\nHost: localhost:{port}\r\nUpgrade: websocket\r\n"
                 f"Connection: Upgrade\r\nSec-WebSocket-Key: {key}\r\n"
                 f"Sec-WebSocket-Version: 13\r\n\r\n").encode())
    head = b""
    while b"\r\n\r\n" not in head:
        chunk = tls.recv(4096)
        check(chunk, "closed during the upgrade")
        head += chunk
    check(head.startswith(b"HTTP/1.1 101"), head[:40])
    return tls


def masked(opcode, payload):
    mask = os.urandom(4)
    body = bytes(b ^ mask[i % 4] for i, b in enumerate(payload))
    return bytes([0x80 | opcode, 0x80 | len(payload)]) + mask + body


async def abort_during_close(server, port, server_first):
    """RST while the close handshake is under way: after our close frame (client first),
    or after the server's close frame instead of answering it (server first)."""
    after = len(server.lines())

    def run():
        tls = websocket_over_tls(port)
        if server_first:
            tls.sendall(masked(0x1, b"close:4003"))
            frame = tls.recv(16)
            check(frame[:1] == b"\x88", f"expected the server's close frame, got {frame!r}")
        else:
            tls.sendall(masked(0x8, (4002).to_bytes(2, "big")))
        rst_close(tls)
    await asyncio.to_thread(run)
    line = await server.wait_line(lambda l: l.startswith("close "), T, after)
    print(f"  (server: {line})", flush=True)


# --- step 3: the library's client against a Python websockets TLS server -----------------

async def run_client(host, port, cafile="ca.pem"):
    proc = await asyncio.create_subprocess_exec(
        os.path.join(BUILD, "wss_client"), f"slirp:{free_port()}:80",
        os.path.join(CERTS, cafile), host, str(port), "--seconds", "20",
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT)
    try:
        out, _ = await asyncio.wait_for(proc.communicate(), 40)
    except asyncio.TimeoutError:
        proc.kill()
        await proc.wait()
        raise
    return proc.returncode, out.decode(errors="replace")


async def client_against_python(cert, key, host, expect, cafile="ca.pem"):
    """expect: None for a verified echo round trip, else a text the verification failure
    must name."""
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(os.path.join(CERTS, cert), os.path.join(CERTS, key))

    async def echo(conn):
        async for message in conn:
            await conn.send(message)

    port = free_port()
    async with serve(echo, "127.0.0.1", port, ssl=ctx):
        rc, out = await run_client(host, port, cafile)
    detail = f"exit {rc}: {out.strip()!r}"
    check("memory back at baseline" in out, detail)
    if expect is None:
        check(rc == 0 and "echo ok" in out and "close 1000" in out, detail)
    else:
        check(rc == 4 and "close -111" in out and expect in out, detail)
        print("  (" + next(l for l in out.splitlines() if l.startswith("verify-failed")) + ")",
              flush=True)


# --- step 4: headless Chromium ---------------------------------------------------------------

def spki_hash(cert):
    pub = subprocess.run(["openssl", "x509", "-in", cert, "-pubkey", "-noout"],
                         check=True, capture_output=True).stdout
    der = subprocess.run(["openssl", "pkey", "-pubin", "-outform", "der"], input=pub,
                         check=True, capture_output=True).stdout
    digest = subprocess.run(["openssl", "dgst", "-sha256", "-binary"], input=der,
                            check=True, capture_output=True).stdout
    return base64.b64encode(digest).decode()


PAGE_STATE = ("['state', 'echo'].map(function (id) {"
              " var e = document.getElementById(id); return e ? e.textContent : ''; })")


async def chromium_page_state(port, trust, rounds):
    """Starts headless Chromium on https://localhost:port/ and reads the page's two status
    lines through the DevTools protocol until the echo shows (at most 20 s); returns
    them. (--dump-dom with a virtual time budget dumps the page before its WebSocket is
    done now and then: virtual time does not wait for WebSocket traffic.)"""
    with tempfile.TemporaryDirectory() as profile:
        flags = ["--headless", "--no-sandbox", "--disable-gpu", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update",
                 "--disable-sync", f"--user-data-dir={profile}", "--remote-debugging-port=0"]
        if trust:
            flags.append("--ignore-certificate-errors-spki-list=" +
                         spki_hash(os.path.join(CERTS, "server.pem")))
        proc = await asyncio.create_subprocess_exec(
            CHROMIUM, *flags, f"https://localhost:{port}/",
            stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.PIPE)
        try:
            devtools = None
            while devtools is None:
                line = (await asyncio.wait_for(proc.stderr.readline(), 30)).decode()
                check(line, "Chromium exited without a DevTools address")
                if line.startswith("DevTools listening on "):
                    devtools = line.split()[-1].split("/devtools/")[0].replace("ws://", "")
            # Keep reading stderr so Chromium never blocks on it.
            drain = asyncio.ensure_future(proc.stderr.read())

            def targets():
                with urllib.request.urlopen(f"http://{devtools}/json/list", timeout=T) as r:
                    return json.load(r)
            state = ["", ""]
            for _ in range(rounds):
                pages = [t for t in await asyncio.to_thread(targets) if t["type"] == "page"]
                if pages:
                    async with connect(pages[0]["webSocketDebuggerUrl"], max_size=None,
                                       open_timeout=T) as cdp:
                        await cdp.send(json.dumps({
                            "id": 1, "method": "Runtime.evaluate",
                            "params": {"expression": PAGE_STATE, "returnByValue": True}}))
                        reply = json.loads(await asyncio.wait_for(cdp.recv(), T))
                        value = reply.get("result", {}).get("result", {}).get("value")
                        if value:
                            state = [v or "" for v in value]
                if state[1].startswith("echo:"):
                    break
                await asyncio.sleep(0.25)
            return state
        finally:
            if proc.returncode is None:
                proc.kill()
            await proc.wait()


async def chromium_talks_wss(server, port):
    after = len(server.lines())
    state = await chromium_page_state(port, True, 80)
    check(state == [f"connected to wss://localhost:{port}/echo", "echo: hello from the page"],
          f"page shows {state}; server: {server.lines()[after:]}")


async def chromium_refuses_without_trust(server, port):
    after = len(server.lines())
    state = await chromium_page_state(port, False, 16)
    check(not state[1] and not any(l.startswith("open") for l in server.lines()[after:]),
          f"page shows {state}")


# --- the run ---------------------------------------------------------------------------------

async def main():
    port = free_port()
    server = CServer(port)
    try:
        await server.wait_line(lambda l: l.startswith("ready"), 10)
    except AssertionError as e:
        report("wss_server starts", False, f"{e}: {server.text()}")
        server.stop()
        return
    try:
        await case("https GET of the page, verified against the test CA", https_page(port))
        await case("a client trusting another CA refuses the server", untrusted_rejected(port))
        await case("text and binary (0 B .. 1 MiB) echo over wss", text_and_binary(port))
        await case("ping/pong over wss (0, 1, 125 bytes)", ping_pong(port))
        await case("client close 4000 reaches the server's closeFp",
                   client_close_4000(server, port))
        await case("server close 4001 (text command) reaches the client",
                   server_close_4001(server, port))
        await case("50 verified clients open at once, each echoing", concurrent_clients(server, port), 120)
        await case("memory back at baseline after the good clients", server.memory_check())

        await case("plain HTTP on the TLS port is dropped",
                   garbage_is_dropped(port, b"GET / HTTP/1.1\r\nHost: localhost\r\n\r\n"))
        await case("fresh verified client after plain HTTP", echo_once(port))
        await case("random bytes instead of a ClientHello are dropped",
                   garbage_is_dropped(port, random.Random(7).randbytes(4096)))
        await case("fresh verified client after random bytes", echo_once(port))
        await case("client handshake cut at every record boundary (and inside each record)",
                   handshake_cut_at_every_record(port), 120)
        await case("fresh verified client after the cut handshakes", echo_once(port))
        await case("client stopping after its ClientHello is dropped at the handshake timeout",
                   stalled_handshake_dropped(port, True))
        await case("client sending nothing is dropped at the handshake timeout",
                   stalled_handshake_dropped(port, False))
        await case("client half-closing after its ClientHello is closed at once",
                   half_closed_handshake_dropped(port, True))
        await case("client half-closing before any byte is closed at once",
                   half_closed_handshake_dropped(port, False))
        await case("fresh verified client after the stalled handshakes", echo_once(port))
        await case("RST after the client's close frame ends the server's connection",
                   abort_during_close(server, port, False))
        await case("RST instead of answering the server's close frame ends its connection",
                   abort_during_close(server, port, True))
        await case("fresh verified client after the aborted closes", echo_once(port))
        await case("memory back at baseline after the bad input", server.memory_check())

        if CHROMIUM is None:
            print("SKIP headless Chromium: not installed", flush=True)
        else:
            await case("headless Chromium loads the https page and echoes over wss, "
                       "trusting the test certificate by its SPKI hash",
                       chromium_talks_wss(server, port), 90)
            await case("headless Chromium without the SPKI hash does not load the page",
                       chromium_refuses_without_trust(server, port), 90)
            await case("memory back at baseline after Chromium", server.memory_check())
    finally:
        rc = server.stop()
        exit_line = next((l for l in server.lines() if l.startswith("exit:")), "no exit line")
        report("wss_server exits with lwIP's and mbedTLS's memory back at their baseline", rc == 0,
               f"exit {rc}: {exit_line}")
        print(f"  ({exit_line})", flush=True)
        errors = [l for l in server.lines() if l.startswith("error")]
        report("wss_server reported no errors", not errors, "; ".join(errors[:5]))

    await case("wss_client: verified echo round trip against Python websockets",
               client_against_python("server.pem", "server.key", "localhost", None))
    await case("wss_client: wrong host name -> LWIP_WS_DROP_TLS_VERIFY_FAILED naming the CN",
               client_against_python("server.pem", "server.key", "wrong.example",
                                     "Common Name"))
    await case("wss_client: untrusted self-signed -> LWIP_WS_DROP_TLS_VERIFY_FAILED "
               "naming the CA", client_against_python("self.pem", "self.key", "localhost",
                                                      "not correctly signed by the trusted CA"))
    await case("wss_client: expired -> LWIP_WS_DROP_TLS_VERIFY_FAILED naming the validity",
               client_against_python("expired.pem", "server.key", "localhost",
                                     "validity has expired"))
    await case("wss_client: CA list without the server's CA -> verification fails",
               client_against_python("server.pem", "server.key", "localhost",
                                     "not correctly signed by the trusted CA",
                                     cafile="self.pem"))


asyncio.run(main())
print(f"{results['passed']} passed, {results['failed']} failed", flush=True)
sys.exit(1 if results["failed"] else 0)
