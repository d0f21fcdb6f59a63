#!/usr/bin/env bash
# Loads the chat page (/chat) in headless Chromium with ?path=/echo&send=TEXT (the page
# connects, sends TEXT and shows the echo), saves a screenshot, and checks the rendered
# page says it is connected and shows the echo. Then the device dashboard (/) over the
# DevTools protocol (dashboard_cdp.py): the plot moves, the commands round-trip; its
# screenshot goes next to SCREENSHOT with "-dashboard" added. Skips when chromium is not
# installed.
#
#   tests/interop/browser_check.sh [SCREENSHOT.png]
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
cd "$root"
. "$root/tests/interop/lib.sh"
shot="${1:-$root/build/browser_check.png}"

browser="$(command -v chromium || command -v chromium-browser || true)"
if [[ -z $browser ]]; then
    echo "SKIP browser check: chromium is not installed"
    exit 0
fi

build_chat
port=$(free_port)
work="$(mktemp -d)"
cleanup() {
    stop_chat
    rm -rf "$work"
}
trap cleanup EXIT
start_chat "$work/server.log" build/examples/chat "slirp:$port:80" 80 --seconds 120

url="http://127.0.0.1:$port/chat?path=/echo&send=hello%20from%20chromium"
flags=(--headless --no-sandbox --disable-gpu --no-first-run --disable-background-networking
    --disable-component-update --disable-sync --user-data-dir="$work/profile"
    --virtual-time-budget=3000)
mkdir -p "$(dirname "$shot")"
timeout 60 "$browser" "${flags[@]}" --window-size=800,600 --screenshot="$shot" "$url" \
    >"$work/shot.log" 2>&1 || true
timeout 60 "$browser" "${flags[@]}" --dump-dom "$url" >"$work/dom.html" 2>"$work/dom.log" || true

failures=0
check() {
    if grep -q "$1" "$work/dom.html"; then
        echo "PASS $2"
    else
        echo "FAIL $2"
        failures=$((failures + 1))
    fi
}
check "connected to ws://127.0.0.1:$port/echo" "the page connected to /echo"
check "&lt; hello from chromium" "the page shows the echoed message"
if [[ -s $shot ]]; then
    echo "PASS screenshot saved: $shot"
else
    echo "FAIL no screenshot"
    failures=$((failures + 1))
fi
if ! timeout 300 "$py" "$root/tests/interop/dashboard_cdp.py" "$browser" \
    "http://127.0.0.1:$port/" "${shot%.png}-dashboard.png"; then
    failures=$((failures + 1))
fi
if [[ $failures -ne 0 ]]; then
    cat "$work/dom.html" "$work/server.log" >&2
    exit 1
fi
echo "browser check: all passed"
