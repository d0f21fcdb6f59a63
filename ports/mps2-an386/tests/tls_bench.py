"""Figures of the TLS firmware image (scripts/bench-firmware-tls).

    tls_bench.py sizes MAP_FILE
        Flash of mbedTLS and of the TLS glue in the image, from the linker map: the sizes
        of the input sections the link kept in .text, .rodata and .data, by origin.
    tls_bench.py load HOST_PORT CA_PEM N
        N wss connections one after the other (each: a 16 B and a 16 KiB echo, then
        close) and one https page, verifying the server against CA_PEM.
    tls_bench.py report LOG
        mbedTLS's heap per connection and the handshake's instructions from the image's
        "tls: connection peak" lines (QEMU run with -icount shift=0), and a line
        "TARGET<TAB>target<TAB>measured<TAB>met|**missed**" like benches/lwip.rs's.
"""
import asyncio
import os
import re
import ssl
import statistics
import sys
import urllib.request

T = 60

# (label, test on the input file's path, test on the section name)
ORIGINS = [
    ("mbedTLS 2.28 (libmbedtls-fw.a)", lambda f, s: "libmbedtls-fw.a(" in f),
    ("lwIP altcp_tls mbedTLS port (altcp_tls_mbedtls.o)",
     lambda f, s: "(altcp_tls_mbedtls.o)" in f),
    ("lwIP altcp layer (altcp.o, altcp_tcp.o, altcp_alloc.o)",
     lambda f, s: re.search(r"\((altcp|altcp_tcp|altcp_alloc)\.o\)", f) is not None),
    ("TLS memory port of the image (tls_port.o)", lambda f, s: f.endswith("tls_port.o")),
    ("lwip-ws TLS shim, C (lwipws_tls.o)", lambda f, s: f.endswith("lwipws_tls.o)")),
    ("lwip-ws TLS C API, Rust (WSTls_*, listenTls, lwip::tls)",
     lambda f, s: "liblwip_ws.a(" in f and "rcgu.o" in f and re.search(r"tls", s, re.I)),
]
FLASH_SECTIONS = (".text", ".rodata", ".data")


def kept_sections(path):
    """(output section, input section, size, file) of every input section the link kept."""
    with open(path, encoding="utf-8", errors="replace") as f:
        lines = f.read().split("Linker script and memory map", 1)[-1].splitlines()
    out, pending = None, None
    for line in lines:
        m = re.match(r"^(\.\S+)\s", line + " ")
        if m:
            out = m.group(1)
            continue
        m = re.match(r"^ (\.\S+|COMMON)\s+0x([0-9a-f]+)\s+0x([0-9a-f]+)\s+(\S.*)$", line)
        if m:
            yield out, m.group(1), int(m.group(3), 16), m.group(4)
            pending = None
            continue
        m = re.match(r"^ (\.\S+|COMMON)\s*$", line)
        if m:
            pending = m.group(1)
            continue
        m = re.match(r"^\s+0x([0-9a-f]+)\s+0x([0-9a-f]+)\s+(\S.*)$", line)
        if m and pending:
            yield out, pending, int(m.group(2), 16), m.group(3)
        pending = None


def sizes(map_path):
    totals = {label: 0 for label, _ in ORIGINS}
    image = 0
    for out, sec, size, f in kept_sections(map_path):
        if out not in FLASH_SECTIONS:
            continue
        image += size
        for label, test in ORIGINS:
            if test(f, sec):
                totals[label] += size
                break
    print("Flash (.text + .rodata + .data kept by the link, bytes):")
    for label, _ in ORIGINS:
        print(f"  {label:58} {totals[label]:7d}  ({totals[label] / 1024:.1f} KiB)")
    glue = sum(v for k, v in totals.items() if not k.startswith("mbedTLS"))
    print(f"  {'TLS glue (everything above but mbedTLS)':58} {glue:7d}  ({glue / 1024:.1f} KiB)")
    print(f"  {'whole image':58} {image:7d}  ({image / 1024:.1f} KiB)")


async def load(port, ca, n):
    from websockets.asyncio.client import connect

    ctx = ssl.create_default_context(cafile=ca)
    url = f"wss://localhost:{port}/echo"
    for _ in range(n):
        await asyncio.sleep(0.3)  # the previous connection's TLS state is freed first
        async with connect(url, ssl=ctx, max_size=None, ping_interval=None,
                           open_timeout=T, close_timeout=T) as ws:
            for size in (16, 16384):
                data = os.urandom(size)
                await ws.send(data)
                got = await asyncio.wait_for(ws.recv(), T)
                assert got == data, "echo differs"
    with urllib.request.urlopen(f"https://localhost:{port}/", context=ctx, timeout=T) as r:
        r.read()


def report(log):
    text = open(log, errors="replace").read()
    pat = re.compile(r"tls: connection peak (\d+) B, held (\d+) B, handshake (\d+) us "
                     r"\((\d+) done\)(, (\d+) connections at once)?")
    rows = [(int(m[1]), int(m[2]), int(m[3]), int(m[4]), int(m[6] or 1))
            for m in pat.finditer(text)]
    # Only periods of one connection: then the peak is that connection's.
    single = [r for r in rows if r[4] == 1]
    ws = [r for r in single if r[1] > 0 and r[3] == 1]
    if not ws:
        print("no WebSocket connection reported")
        return 1
    conf = re.search(r"tls: configuration (\d+) B", text)
    lst = re.search(r"tls: listening, (\d+) B", text)
    peak = max(r[0] for r in single)
    held = max(r[1] for r in ws)
    hs = statistics.median(r[2] for r in ws)
    print("mbedTLS heap (mbedTLS blocks + lwIP's altcp_tls states, on lwIP's heap):")
    if conf and lst:
        print(f"  server configuration            {int(conf[1]):7d} B  (once)")
        print(f"  the TLS listener                {int(lst[1]) - int(conf[1]):7d} B  (once)")
    print(f"  per connection, peak            {peak:7d} B  ({peak / 1024:.1f} KiB; target <= 30 KiB;"
          " handshake and 16 KiB echo)")
    print(f"  per connection, held while open {held:7d} B  ({held / 1024:.1f} KiB)")
    print(f"  connections measured alone      {len(single):7d}")
    verdict = "met" if peak <= 30 * 1024 else "**missed**"
    target = "peak heap per TLS connection ≤ 30 KiB (firmware configuration)"
    print(f"TARGET\t{target}\t{peak} B ({peak / 1024:.1f} KiB): mbedTLS + altcp_tls state, "
          f"handshake and 16 KiB echo, Cortex-M4 image\t{verdict}")
    print("TLS handshake, server side, ECDHE-ECDSA P-256 (QEMU -icount shift=0: the virtual "
          "clock counts instructions):")
    print(f"  median                          {hs / 1000:7.1f} M instructions "
          f"(~{hs / 100:.0f} ms at 100 MHz if 1 instruction/cycle)")
    return 0


def main():
    cmd = sys.argv[1]
    if cmd == "sizes":
        sizes(sys.argv[2])
        return 0
    if cmd == "load":
        asyncio.run(load(int(sys.argv[2]), sys.argv[3], int(sys.argv[4])))
        return 0
    if cmd == "report":
        return report(sys.argv[2])
    print(__doc__)
    return 2


if __name__ == "__main__":
    sys.exit(main())
