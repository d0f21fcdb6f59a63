#!/usr/bin/env bash
# Interop tests: the Python `websockets` package against build/examples/chat (interop.py,
# and sensor_check.py for its dashboard's sensor), over slirp
# (no root) and over a TAP device this script creates (root; plain and ASan/UBSan
# builds; skipped otherwise). Bounded; kills the servers it started and removes its TAP
# device.
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
cd "$root"
. "$root/tests/interop/lib.sh"
logdir="$(mktemp -d)"
tapdev=""
failures=0

cleanup() {
    stop_chat
    if [[ -n $tapdev ]]; then
        ip link del "$tapdev" 2>/dev/null || true
    fi
    rm -rf "$logdir"
}
trap cleanup EXIT

build_chat SANITIZE

# run_against NAME BINARY SPEC HOST PORT: start the chat server, wait for its "ready"
# line, run interop.py and sensor_check.py, stop the server and check its log for
# sanitizer reports.
run_against() {
    local name=$1 bin=$2 spec=$3 host=$4 port=$5 log="$logdir/$1.log"
    echo "== $name: $spec"
    if ! start_chat "$log" "$bin" "$spec" 80 --seconds 600 --max-message 2097152; then
        echo "FAIL $name: the server did not start"
        failures=$((failures + 1))
    else
        if ! timeout 600 "$py" "$root/tests/interop/interop.py" "$host" "$port"; then
            failures=$((failures + 1))
        fi
        # A stalled page fills lwIP's buffers quickly only on TAP (slirp buffers minutes).
        stall=()
        [[ $name == tap* ]] && stall=(--stall)
        if ! timeout 300 "$py" "$root/tests/interop/sensor_check.py" \
            "ws://$host:$port/sensor" "${stall[@]}"; then
            failures=$((failures + 1))
        fi
    fi
    stop_chat
    if grep -qi 'runtime error\|AddressSanitizer\|assert' "$log"; then
        cat "$log" >&2
        echo "FAIL $name: the server reported errors"
        failures=$((failures + 1))
    fi
}

port=$(free_port)
run_against slirp build/examples/chat "slirp:$port:80" 127.0.0.1 "$port"

net=10.213.78
if [[ $(id -u) -ne 0 || ! -c /dev/net/tun ]]; then
    echo "SKIP tap: needs root and /dev/net/tun"
elif ip -j route | "$py" -c '
import ipaddress, json, sys
net = ipaddress.ip_network(sys.argv[1])
routes = [r["dst"] for r in json.load(sys.stdin) if r.get("dst", "default") != "default"]
sys.exit(0 if any(ipaddress.ip_network(d, strict=False).overlaps(net) for d in routes) else 1)
' "$net.0/24"; then
    echo "SKIP tap: $net.0/24 is already routed here"
else
    tapdev="lwsi$$"
    if ip tuntap add dev "$tapdev" mode tap && ip addr add "$net.1/24" dev "$tapdev" &&
        ip link set "$tapdev" up; then
        run_against tap build/examples/chat "tap:$tapdev:$net.2:$net.1" "$net.2" 80
        # The ASan/UBSan build runs on TAP: through slirp, bursts of connections to
        # the sanitizer build of ports/unix get reset (tcp_echo shows the same), which
        # is not what this checks.
        run_against tap-sanitize build/examples-sanitize/chat \
            "tap:$tapdev:$net.2:$net.1" "$net.2" 80
    else
        echo "FAIL tap: cannot create $tapdev"
        failures=$((failures + 1))
    fi
    ip link del "$tapdev" 2>/dev/null || true
    tapdev=""
fi

echo "== chat-cpp (C++ example): slirp"
"$root/tests/interop/chat_cpp.sh" || failures=$((failures + 1))

if [[ $failures -ne 0 ]]; then
    echo "tests/interop: $failures run(s) failed"
    exit 1
fi
echo "tests/interop: all passed"
