"""The peers of tests/interop/demo_tls_check.sh against a running scripts/demo.

    demo_tls_peer.py PLAIN_PORT TLS_PORT CERT PRINTED_FINGERPRINT [--chromium PATH]

Checks, against the demo's generated certificate CERT (Python's ssl verifies the chain,
the dates and the name; no check is turned off):
  - the fingerprint the demo printed is CERT's, and the server presents CERT
  - https:// page for both names in the certificate (localhost, 127.0.0.1)
  - wss:// /echo: text and binary (16 B, 64 KiB), close
  - plain http:// page and ws:// /echo on the plain port still work
  - an unverifiable peer is refused (a context without CERT fails the handshake)
  - headless Chromium trusting CERT by its SPKI hash only loads the https page, the page's
    own WebSocket goes out as wss:// and echoes, and a wss round trip from the page works;
    without the SPKI flag the page does not load
Prints PASS/FAIL per check; exit status 1 when any failed. Every wait is bounded.
"""
import asyncio
import base64
import hashlib
import json
import os
import ssl
import sys
import tempfile
import urllib.request

from websockets.asyncio.client import connect

T = 10  # seconds, any single network wait
failures = []


def check(ok, what):
    print(("PASS " if ok else "FAIL ") + what, flush=True)
    if not ok:
        failures.append(what)


def der_of(cert_path):
    with open(cert_path) as f:
        return ssl.PEM_cert_to_DER_cert(f.read())


def colon_hex(digest):
    return ":".join(f"{b:02X}" for b in digest)


def spki_hash(cert_path):
    """base64(SHA-256(SubjectPublicKeyInfo)), what --ignore-certificate-errors-spki-list
    takes; the DER SPKI comes from the openssl CLI."""
    import subprocess
    pub = subprocess.run(["openssl", "x509", "-in", cert_path, "-pubkey", "-noout"],
                         check=True, capture_output=True).stdout
    der = subprocess.run(["openssl", "pkey", "-pubin", "-outform", "der"], input=pub,
                         check=True, capture_output=True).stdout
    return base64.b64encode(hashlib.sha256(der).digest()).decode()


def get(url, context=None):
    with urllib.request.urlopen(url, timeout=T, context=context) as r:
        return r.status, r.read().decode(errors="replace")


async def echo_round(url, context):
    async with connect(url, ssl=context, open_timeout=T, close_timeout=T,
                       max_size=None) as ws:
        await ws.send("hello over " + url.split(":")[0])
        text = await asyncio.wait_for(ws.recv(), T)
        small, big = os.urandom(16), os.urandom(64 * 1024)
        await ws.send(small)
        got_small = await asyncio.wait_for(ws.recv(), T)
        await ws.send(big)
        got_big = await asyncio.wait_for(ws.recv(), T)
    return (text == "hello over " + url.split(":")[0] and got_small == small
            and got_big == big)


async def devtools_eval(cdp, expression, serial=[0]):
    serial[0] += 1
    await cdp.send(json.dumps({"id": serial[0], "method": "Runtime.evaluate",
                               "params": {"expression": expression, "returnByValue": True,
                                          "awaitPromise": True}}))
    while True:
        msg = json.loads(await asyncio.wait_for(cdp.recv(), T))
        if msg.get("id") == serial[0]:
            return msg.get("result", {}).get("result", {}).get("value")


ROUND_TRIP = """(async () => {
  const ws = new WebSocket("wss://" + location.host + "/echo");
  await new Promise((ok, bad) => { ws.onopen = ok; ws.onerror = () => bad("wss error"); });
  const got = new Promise(ok => { ws.onmessage = e => ok(e.data); });
  ws.send("round trip from chromium");
  const echo = await got;
  ws.close();
  return echo;
})().catch(e => "failed: " + e)"""


async def chromium(browser, port, cert, trust, page="/chat"):
    """Loads https://127.0.0.1:PORT{page}?path=/echo&send=... (examples/chat/index.html) in
    headless Chromium and returns (location.protocol, the page's text once it shows the echo
    or after 20 s, the wss round trip's echo). Also used by the TLS firmware's test."""
    send = "hello from chromium over wss"
    with tempfile.TemporaryDirectory() as profile:
        flags = ["--headless", "--no-sandbox", "--disable-gpu", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update",
                 "--disable-sync", f"--user-data-dir={profile}", "--remote-debugging-port=0"]
        if trust:
            flags.append("--ignore-certificate-errors-spki-list=" + spki_hash(cert))
        url = f"https://127.0.0.1:{port}{page}?path=/echo&send=" + send.replace(" ", "%20")
        proc = await asyncio.create_subprocess_exec(
            browser, *flags, url, stdout=asyncio.subprocess.DEVNULL,
            stderr=asyncio.subprocess.PIPE)
        try:
            devtools = None
            for _ in range(200):
                line = (await asyncio.wait_for(proc.stderr.readline(), 30)).decode()
                if not line:
                    return "", "Chromium exited", ""
                if line.startswith("DevTools listening on "):
                    devtools = line.split()[-1].split("/devtools/")[0].replace("ws://", "")
                    break
            drain = asyncio.ensure_future(proc.stderr.read())  # never block Chromium

            def pages():
                with urllib.request.urlopen(f"http://{devtools}/json/list", timeout=T) as r:
                    return [t for t in json.load(r) if t["type"] == "page"]
            protocol, text, echo = "", "", ""
            for _ in range(40):
                found = await asyncio.to_thread(pages)
                if found:
                    async with connect(found[0]["webSocketDebuggerUrl"], max_size=None,
                                       open_timeout=T) as cdp:
                        protocol = await devtools_eval(cdp, "location.protocol") or ""
                        text = await devtools_eval(
                            cdp, "document.body ? document.body.innerText : ''") or ""
                        if protocol == "https:" and send in text.replace("\n", " "):
                            echo = await devtools_eval(cdp, ROUND_TRIP) or ""
                            break
                        if protocol == "chrome-error:":  # the certificate was refused
                            break
                await asyncio.sleep(0.5)
            drain.cancel()
            return protocol, text, echo
        finally:
            if proc.returncode is None:
                proc.kill()
            await proc.wait()


async def main():
    args = sys.argv[1:]
    browser = None
    if "--chromium" in args:
        i = args.index("--chromium")
        browser = args[i + 1]
        del args[i:i + 2]
    plain, tls, cert, printed = int(args[0]), int(args[1]), args[2], args[3]

    der = der_of(cert)
    check(printed.upper() == colon_hex(hashlib.sha256(der).digest()),
          "the printed SHA-256 fingerprint is the generated certificate's")

    verified = ssl.create_default_context(cafile=cert)
    for host in ("localhost", "127.0.0.1"):
        try:
            status, body = get(f"https://{host}:{tls}/", verified)
            check(status == 200 and "<html" in body.lower(),
                  f"https://{host}:{tls}/ serves the page, certificate verified")
        except Exception as e:  # noqa: BLE001 - any failure is the check's
            check(False, f"https://{host}:{tls}/ serves the page ({e!r})")
    _, writer = await asyncio.open_connection("localhost", tls, ssl=verified)
    served = writer.get_extra_info("ssl_object").getpeercert(binary_form=True)
    check(served == der, "the TLS port presents the generated certificate")
    writer.close()

    try:
        await asyncio.open_connection("localhost", tls, ssl=ssl.create_default_context())
        check(False, "a client that does not trust the certificate is refused")
    except ssl.SSLCertVerificationError:
        check(True, "a client that does not trust the certificate is refused")

    try:
        check(await echo_round(f"wss://localhost:{tls}/echo", verified),
              "wss:// /echo: text, 16 B and 64 KiB binary echoed, closed")
    except Exception as e:  # noqa: BLE001
        check(False, f"wss:// /echo ({e!r})")
    try:
        status, body = get(f"http://127.0.0.1:{plain}/")
        check(status == 200 and "<html" in body.lower(),
              f"http://127.0.0.1:{plain}/ still serves the page")
        check(await echo_round(f"ws://127.0.0.1:{plain}/echo", None),
              "ws:// /echo on the plain port: text, 16 B and 64 KiB binary echoed")
    except Exception as e:  # noqa: BLE001
        check(False, f"plain port ({e!r})")

    if browser is None:
        print("SKIP Chromium: not installed")
    else:
        protocol, text, echo = await chromium(browser, tls, cert, trust=True)
        flat = text.replace("\n", " ")
        check(protocol == "https:",
              "Chromium (certificate trusted by SPKI only) loads the https page")
        check(f"wss://127.0.0.1:{tls}/echo" in flat and "hello from chromium over wss" in flat,
              "the page connects with wss:// and shows the echo")
        check(echo == "round trip from chromium", "a wss round trip from the page echoes")
        if failures:
            print(flat[:2000])
        protocol, _, _ = await chromium(browser, tls, cert, trust=False)
        check(protocol != "https:", "without the SPKI flag Chromium does not load the page")
    print("demo TLS check: " + ("all passed" if not failures else f"{len(failures)} failed"))
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(asyncio.run(main()))
