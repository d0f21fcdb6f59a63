"""The README's C example, built and run exactly as written.

    .venv/bin/python tests/readme_snippets.py

README.md marks what a reader copies with HTML comments: `<!-- snippet: file NAME -->`
before a fenced block saves that block as NAME, and `<!-- snippet: build -->` before a
fenced shell block gives the commands that build it. This script writes the files into a
scratch copy of the project folder (the project's own entries linked into it, the
snippet files beside them, as a reader who saved them there has it), runs the build
commands unchanged with bash, then starts `./server slirp:PORT:80` (the README's way to
run it on another port than 8080) and checks, with Python `websockets` on 127.0.0.1:PORT:
the page loads, a WebSocket at /ws echoes, and a flood of messages sent to a client that
reads slowly (a small receive buffer) comes back whole and in order, which needs the
would-block -> writableFp path of the example. Prints PASS/FAIL per check; exits non-zero
when anything failed (a snippet that does not compile fails the build check).
"""
import asyncio
import os
import re
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request

import websockets

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
MARK = re.compile(r"<!-- snippet: (file (\S+)|build) -->\s*\n```[a-z]*\n(.*?)\n```", re.S)
FLOOD = 8000
FLOOD_SIZE = 1000

failed = 0


def report(ok, what, detail=""):
    global failed
    print(("PASS " if ok else "FAIL ") + what + (f": {detail}" if detail and not ok else ""))
    if not ok:
        failed += 1
    return ok


def snippets(text):
    files, build = {}, None
    for m in MARK.finditer(text):
        if m.group(2):
            files[m.group(2)] = m.group(3) + "\n"
        else:
            build = m.group(3) + "\n"
    return files, build


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


async def echo_once(url):
    async with websockets.connect(url, open_timeout=10, ping_interval=None) as ws:
        await ws.send("hello from the README")
        got = await asyncio.wait_for(ws.recv(), 10)
        assert got == "hello from the README", f"echo {got!r}"


async def flood(url, port):
    """FLOOD messages to a reader that starts late through a 4 KiB receive buffer."""
    sock = socket.socket()
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    sock.settimeout(10)
    sock.connect(("127.0.0.1", port))
    sock.setblocking(False)
    msgs = [bytes([i % 251]) * FLOOD_SIZE for i in range(FLOOD)]
    async with websockets.connect(url, sock=sock, open_timeout=10, ping_interval=None,
                                  max_size=None) as ws:
        async def reader():
            await asyncio.sleep(2)  # let the server's send queue fill meanwhile
            for i, want in enumerate(msgs):
                got = await asyncio.wait_for(ws.recv(), 20)
                assert got == want, f"message {i} differs ({len(got)} bytes)"

        async def writer():
            for m in msgs:
                await ws.send(m)

        await asyncio.wait_for(asyncio.gather(reader(), writer()), 90)


def run_checks(port):
    base = f"http://127.0.0.1:{port}/"
    try:
        body = urllib.request.urlopen(base, timeout=10).read().decode()
        report("new WebSocket(" in body, "the page loads", body[:80])
    except OSError as e:
        report(False, "the page loads", str(e))
    for name, check in (("a WebSocket at /ws echoes", echo_once(f"ws://127.0.0.1:{port}/ws")),
                        (f"{FLOOD} x {FLOOD_SIZE} B to a slow reader come back whole, in order",
                         flood(f"ws://127.0.0.1:{port}/ws", port))):
        try:
            asyncio.run(check)
            report(True, name)
        except Exception as e:  # noqa: BLE001 - any failure is the check's verdict
            report(False, name, f"{type(e).__name__}: {e}")


def main():
    with open(os.path.join(ROOT, "README.md"), encoding="utf-8") as f:
        files, build = snippets(f.read())
    if not report("server.c" in files and build is not None,
                  "README marks server.c and its build commands", f"found {sorted(files)}"):
        return 1
    with tempfile.TemporaryDirectory() as work:
        for entry in os.listdir(ROOT):
            if entry not in files and entry != ".git":
                os.symlink(os.path.join(ROOT, entry), os.path.join(work, entry))
        for name, code in files.items():
            with open(os.path.join(work, name), "w", encoding="utf-8") as f:
                f.write(code)
        built = subprocess.run(["bash", "-euo", "pipefail", "-c", build], cwd=work,
                               capture_output=True, text=True, timeout=1200)
        if not report(built.returncode == 0 and os.access(os.path.join(work, "server"), os.X_OK),
                      "the build commands build server.c as written",
                      built.stdout[-3000:] + built.stderr[-3000:]):
            return 1
        port = free_port()
        log = open(os.path.join(work, "server.log"), "w+", encoding="utf-8")
        proc = subprocess.Popen(["./server", f"slirp:{port}:80"], cwd=work, stdout=log,
                                stderr=subprocess.STDOUT)
        try:
            deadline = time.monotonic() + 10
            while time.monotonic() < deadline and proc.poll() is None:
                log.seek(0)
                if "serving on" in log.read():
                    break
                time.sleep(0.1)
            log.seek(0)
            if report("serving on" in log.read(), "./server starts", "no 'serving on' in 10 s"):
                run_checks(port)
            report(proc.poll() is None, "./server still runs after the checks")
        finally:
            proc.send_signal(signal.SIGTERM)
            try:
                proc.wait(timeout=5)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
            log.seek(0)
            output = log.read()
            log.close()
        if failed:
            print("    server output:\n" + "".join("    " + l for l in output.splitlines(True)[-20:]))
    print(f"{'FAIL' if failed else 'PASS'}: README snippets ({failed} failed)")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
