"""The device dashboard in headless Chromium, driven over the DevTools protocol.

    dashboard_cdp.py BROWSER URL SCREENSHOT.png

Opens URL (the dashboard page, served by build/examples/chat) in a headless BROWSER and
checks what a user sees: the page connects; the plot moves (two screenshots of the plot
taken a second apart differ, and the canvas is not blank); the messages-per-second figure
follows the device's rate; a rate set with the page's form and the output toggle
round-trip (the page shows the device's acknowledgement). Saves a screenshot of the page.
Prints "PASS name: detail" / "FAIL name: why" lines; exits 0 when all passed. Every wait
is bounded; the browser is killed at the end.
"""
import asyncio
import base64
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
import urllib.request

import websockets

BROWSER, URL, SHOT = sys.argv[1:4] if len(sys.argv) == 4 else (None, None, None)
failed = 0


class Page:
    """One page target, with request/response over its DevTools WebSocket."""

    def __init__(self, ws):
        self.ws = ws
        self.next_id = 0

    async def call(self, method, **params):
        self.next_id += 1
        await self.ws.send(json.dumps({"id": self.next_id, "method": method, "params": params}))
        end = time.monotonic() + 20
        while True:  # events in between are not needed
            msg = json.loads(await asyncio.wait_for(self.ws.recv(), end - time.monotonic()))
            if msg.get("id") == self.next_id:
                if "error" in msg:
                    raise RuntimeError(f"{method}: {msg['error']}")
                return msg["result"]

    async def js(self, expression):
        result = await self.call("Runtime.evaluate", expression=expression, returnByValue=True)
        return result["result"].get("value")

    async def wait_for(self, expression, seconds=10):
        """Polls a JavaScript condition; returns its last value (truthy when met)."""
        end = time.monotonic() + seconds
        value = None
        while time.monotonic() < end:
            value = await self.js(expression)
            if value:
                return value
            await asyncio.sleep(0.1)
        return value

    async def shot(self, clip=None):
        params = {"format": "png"}
        if clip:
            params["clip"] = dict(clip, scale=1)
        return base64.b64decode((await self.call("Page.captureScreenshot", **params))["data"])


def start_browser(profile):
    proc = subprocess.Popen(
        [BROWSER, "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync",
         "--remote-debugging-port=0", f"--user-data-dir={profile}", "--window-size=900,900",
         "about:blank"],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    port_file = os.path.join(profile, "DevToolsActivePort")
    for _ in range(200):  # 20 s
        if os.path.exists(port_file):
            lines = open(port_file).read().split()
            if lines:
                return proc, int(lines[0])
        if proc.poll() is not None:
            break
        time.sleep(0.1)
    proc.kill()
    raise RuntimeError("the browser did not open its DevTools port")


def page_socket(port):
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/json/list", timeout=10) as r:
        targets = json.load(r)
    return next(t["webSocketDebuggerUrl"] for t in targets if t["type"] == "page")


def report(ok, name, detail):
    global failed
    failed += 0 if ok else 1
    print(f"{'PASS' if ok else 'FAIL'} {name}: {detail}", flush=True)


async def checks(page):
    await page.call("Page.enable")
    await page.call("Page.navigate", url=URL)
    status = await page.wait_for(
        'document.getElementById("status").textContent === "connected" && "connected"')
    report(status == "connected", "dashboard-connects", f"status {status!r}")
    if status != "connected":
        return

    # The plot: a second of readings, then two pictures of it a second apart.
    await asyncio.sleep(1.0)
    rect = await page.js('(function () { var r = document.getElementById("plot")'
                         '.getBoundingClientRect(); return {x: r.x, y: r.y, '
                         'width: r.width, height: r.height}; })()')
    first = await page.shot(rect)
    await asyncio.sleep(1.0)
    second = await page.shot(rect)
    inked = await page.js('(function () { var c = document.getElementById("plot"), '
                          'd = c.getContext("2d").getImageData(0, 0, c.width, c.height).data,'
                          ' n = 0; for (var i = 3; i < d.length; i += 4) { n += d[i] > 0; }'
                          ' return n; })()')
    report(first != second and inked > 500, "dashboard-plot-moves",
           f"screenshots of the plot 1 s apart {'differ' if first != second else 'are equal'}"
           f", {inked} pixels drawn")

    rate = await page.js('document.getElementById("rate").textContent')
    rx = int(await page.js('document.getElementById("rx").textContent'))
    report(rate.isdigit() and abs(rx - int(rate)) <= 0.3 * int(rate), "dashboard-rate-shown",
           f"{rx} messages/s shown at a device rate of {rate}/s")

    # A command through the page's own controls, answered by the device.
    new = 20 if rate != "20" else 30
    await page.js(f'document.getElementById("want").value = "{new}"; '
                  'document.querySelector("#form button").click(); true')
    ack = await page.wait_for(f'document.getElementById("ack").textContent === '
                              f'"acknowledged rate {new}" && document.getElementById("rate")'
                              f'.textContent === "{new}" && "acknowledged rate {new}"')
    shown = await page.js('document.getElementById("ack").textContent')
    report(ack == f"acknowledged rate {new}", "dashboard-rate-command",
           f"the page shows {shown!r}")
    led = await page.js('document.getElementById("led").className')
    want = "output 0" if led == "on" else "output 1"
    await page.js('document.getElementById("toggle").click(); true')
    ack = await page.wait_for(f'document.getElementById("ack").textContent === '
                              f'"acknowledged {want}" && "acknowledged {want}"')
    led_after = await page.js('document.getElementById("led").className')
    report(ack == f"acknowledged {want}" and led_after != led, "dashboard-toggle",
           f"the page shows {ack!r}, output light {led or 'off'} -> {led_after or 'off'}")
    if led_after == "on":  # leave the device as found
        await page.js('document.getElementById("toggle").click(); true')
    await page.js(f'document.getElementById("want").value = "{rate}"; '
                  'document.querySelector("#form button").click(); true')
    await page.wait_for(f'document.getElementById("rate").textContent === "{rate}"')
    await asyncio.sleep(1.0)
    with open(SHOT, "wb") as f:
        f.write(await page.shot())


async def main():
    profile = tempfile.mkdtemp()
    proc = None
    try:
        proc, port = start_browser(profile)
        async with websockets.connect(page_socket(port), max_size=None) as ws:
            await asyncio.wait_for(checks(Page(ws)), 120)
    except Exception as e:  # noqa: BLE001 - every failure is reported the same way
        report(False, "dashboard-browser", f"{type(e).__name__}: {e}")
    finally:
        if proc is not None:
            proc.kill()
            proc.wait()
        shutil.rmtree(profile, ignore_errors=True)
    return 1 if failed else 0


if __name__ == "__main__":
    if URL is None:
        print(__doc__)
        sys.exit(2)
    sys.exit(asyncio.run(main()))
