#!/usr/bin/env bash
# Attack suite: tests/attack/attack.py (slowloris, stalled frames, memory floods, foreign
# origins, ambiguous requests, resets mid-frame, ping bursts, a 16 MiB echo, a foreign
# page in headless Chromium, a client that never reads its echo) against
# build/examples/chat on slirp, 127.0.0.1 only. Then checks that the demo survived:
# still running, SIGPIPE ignored, a clean exit on SIGTERM.
#
#   tests/attack/run.sh [LETTER...]     (only the attacks a..j named)
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
cd "$root"
. "$root/tests/interop/lib.sh"
budget=$((4 * 1024 * 1024))
log="$(mktemp)"
failures=0

cleanup() {
    stop_chat
    rm -f "$log"
}
trap cleanup EXIT

build_chat
port=$(free_port)
if ! start_chat "$log" build/examples/chat "slirp:$port:80" 80 --seconds 600 \
    --budget "$budget"; then
    echo "FAIL the demo did not start"
    exit 1
fi
pid=$server_pid

# Bit 13 of SigIgn: SIGPIPE (ports/unix ignores it, so a write to a vanished client
# cannot kill the demo).
sigign=$(awk '/^SigIgn:/ { print $2 }' "/proc/$pid/status")
if (((16#$sigign >> 12) & 1)); then
    echo "PASS the demo ignores SIGPIPE"
else
    echo "FAIL the demo does not ignore SIGPIPE (SigIgn $sigign)"
    failures=$((failures + 1))
fi

timeout 400 "$py" "$root/tests/attack/attack.py" 127.0.0.1 "$port" "$pid" "$budget" "$@" ||
    failures=$((failures + 1))

if kill -0 "$pid" 2>/dev/null; then
    echo "PASS the demo survived the attacks"
    kill -TERM "$pid"
    # A clean shutdown takes at most 2 s; a demo stuck in a loop is killed after 10 s.
    for _ in $(seq 100); do
        kill -0 "$pid" 2>/dev/null || break
        sleep 0.1
    done
    stuck=0
    if kill -0 "$pid" 2>/dev/null; then
        echo "FAIL the demo did not stop within 10 s of SIGTERM (killed)"
        failures=$((failures + 1))
        kill -KILL "$pid" 2>/dev/null || true
        stuck=1
    fi
    status=0
    wait "$pid" 2>/dev/null || status=$?
    server_pid=""
    if [[ $stuck -eq 1 ]]; then
        :
    elif [[ $status -eq 0 ]]; then
        echo "PASS the demo shut down cleanly"
    else
        echo "FAIL the demo exited with status $status on SIGTERM"
        failures=$((failures + 1))
    fi
else
    status=0
    wait "$pid" || status=$?
    server_pid=""
    echo "FAIL the demo died during the attacks: exit status $status$(
        [[ $status -eq 141 ]] && echo ' (SIGPIPE)')"
    failures=$((failures + 1))
fi
echo "--- demo log (last 20 lines)"
tail -n 20 "$log"

if [[ $failures -ne 0 ]]; then
    echo "tests/attack: failed"
    exit 1
fi
echo "tests/attack: all passed"
