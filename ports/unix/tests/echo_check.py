"""echo_check HOST PORT BYTES: send BYTES random bytes to a TCP echo server, read them
back while sending, half-close, expect the server to close; exit 0 when all matches."""
import os
import selectors
import socket
import sys
import time


def main() -> int:
    host, port, size = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
    data = os.urandom(size)
    start = time.monotonic()
    sock = socket.create_connection((host, port), timeout=10)
    sock.setblocking(False)
    sel = selectors.DefaultSelector()
    sel.register(sock, selectors.EVENT_READ | selectors.EVENT_WRITE)
    got = bytearray()
    sent = 0
    while len(got) < size:
        events = sel.select(timeout=10)
        if not events:
            print(f"echo_check: timeout after {len(got)} of {size} bytes")
            return 1
        for _, ev in events:
            if ev & selectors.EVENT_WRITE and sent < size:
                sent += sock.send(data[sent:sent + 65536])
                if sent == size:
                    sel.modify(sock, selectors.EVENT_READ)
            if ev & selectors.EVENT_READ:
                chunk = sock.recv(65536)
                if not chunk:
                    print(f"echo_check: closed early after {len(got)} of {size} bytes")
                    return 1
                got += chunk
    sock.setblocking(True)
    sock.settimeout(10)
    sock.shutdown(socket.SHUT_WR)
    if sock.recv(1) != b"":
        print("echo_check: extra bytes after the echo")
        return 1
    sock.close()
    if bytes(got) != data:
        print("echo_check: echoed bytes differ")
        return 1
    print(f"echo_check: {size} bytes echoed in {time.monotonic() - start:.3f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
