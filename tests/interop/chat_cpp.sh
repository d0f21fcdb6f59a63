#!/usr/bin/env bash
# The C++ chat (examples/chat-cpp, C++11 without exceptions or RTTI) against real peers:
# three Python `websockets` clients and headless Chromium (skipped when chromium is not
# installed) through slirp (tests/interop/chat_cpp.py). Run by tests/interop/run.sh;
# starts and stops the server by PID.
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
cd "$root"
. "$root/tests/interop/lib.sh"
work="$(mktemp -d)"
cleanup() {
    stop_chat
    rm -rf "$work"
}
trap cleanup EXIT

build_chat
browser="$(command -v chromium || command -v chromium-browser || true)"
[[ -n $browser ]] || echo "SKIP chat-cpp in Chromium: chromium is not installed"
port=$(free_port)
failures=0
if ! start_chat "$work/server.log" build/examples/chat-cpp "slirp:$port:80" --seconds 300; then
    echo "FAIL chat-cpp did not start"
    exit 1
fi
timeout 240 "$py" "$root/tests/interop/chat_cpp.py" 127.0.0.1 "$port" $browser ||
    failures=$((failures + 1))
stop_chat
if ! grep -q '^chat-cpp: stopped' "$work/server.log" || grep -qi 'error\|assert' "$work/server.log"; then
    cat "$work/server.log" >&2
    echo "FAIL chat-cpp: no clean stop, or errors in its log"
    failures=$((failures + 1))
fi
if [[ $failures -ne 0 ]]; then
    exit 1
fi
echo "chat-cpp: all passed"
