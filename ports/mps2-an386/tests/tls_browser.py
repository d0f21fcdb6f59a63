"""Headless Chromium against the TLS firmware in QEMU: the browser, trusting the image's
certificate by its SPKI hash only (no CA installed), loads the chat page over https://,
the page's own WebSocket goes out as wss:// to /echo and shows the echo, and a wss round
trip run in the page echoes. Proves that the image's mbedTLS configuration (cipher
suites, curves, record sizes) suits a real browser, not only Python's ssl.

    tls_browser.py HOST_PORT SERVER_PEM CHROMIUM

Prints PASS/FAIL per check; exit status 1 when any failed. Every wait is bounded (the
browser part reuses tests/interop/demo_tls_peer.py).
"""
import asyncio
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "..", "..", "tests",
                                "interop"))
from demo_tls_peer import check, chromium, failures  # noqa: E402


async def main():
    port, cert, browser = int(sys.argv[1]), sys.argv[2], sys.argv[3]
    protocol, text, echo = await chromium(browser, port, cert, trust=True, page="/")
    flat = text.replace("\n", " ")
    check(protocol == "https:", "Chromium (certificate trusted by SPKI only) loads the page")
    check(f"wss://127.0.0.1:{port}/echo" in flat and "hello from chromium over wss" in flat,
          "the page connects with wss:// and shows the echo")
    check(echo == "round trip from chromium", "a wss round trip from the page echoes")
    if failures:
        print("    page text: " + flat[:500])
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(asyncio.run(main()))
